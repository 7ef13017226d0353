//! The tray process `pushmail` end to end, on a private virtual desktop per test (Xvfb, D-Bus
//! session bus, dunst, a StatusNotifierWatcher) against a private Dovecot: what a user sees
//! in popups and in the tray, and what their clicks do on the server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;
mod faults;

use std::path::Path;
use std::time::Duration;

use common::{Pushmail, Via, unique_id};
use desktop::{Daemon, Desktop, Tray, WallClock, eventually, recorder};
use pushmail_tests::{Dovecot, DovecotOptions, Listen, Script, ScriptedServer, message};
use serde_json::Value;

const SLOW: Duration = Duration::from_secs(20);

/// A desktop, a Dovecot with alice, and `pushmail` watching alice's INBOX as "Work".
struct Scene {
    dc: Dovecot,
    pm: Pushmail,
    desk: Desktop,
    tray: Option<Tray>,
}

fn scene(daemon: Daemon, extra_root: &str) -> Scene {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("work");
    let account = pm.account_toml(&dc, &id, "alice", Via::Tls, "alicepw", "name = \"Work\"");
    pm.write_config(&[format!("{extra_root}\n{account}")]);
    let desk = Desktop::start(daemon);
    Scene {
        dc,
        pm,
        desk,
        tray: None,
    }
}

impl Scene {
    fn start_tray(&mut self) {
        let tray = Tray::start(&self.desk, &self.pm.config());
        self.run_tray(tray);
    }

    /// Waits for `tray` to show its item and watch the account.
    fn run_tray(&mut self, tray: Tray) {
        self.tray = Some(tray);
        self.desk
            .wait_message(SLOW, "the tray item to register", |m| {
                m["kind"] == "registered"
            });
        let desk = &self.desk;
        let tray = self.tray.as_ref().unwrap();
        eventually(SLOW, "the account to be watching (push)", || {
            let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
            if accounts[0][2] == "push" {
                Some(())
            } else {
                if accounts[0][2] == "error" || accounts[0][2] == "auth_failed" {
                    panic!("account failed: {accounts}\n{}", tray.log());
                }
                None
            }
        });
    }

    fn wait_unread(&self, n: u64) {
        let desk = &self.desk;
        eventually(
            SLOW,
            &format!("{n} unread over D-Bus and in the tooltip"),
            || {
                let count = desk.py(&["call", "GetUnreadCount"]).as_u64()?;
                let tooltip = desk.py(&["item"])["tooltip_title"].as_str()?.to_owned();
                let want = match n {
                    0 => "No unread mail".to_owned(),
                    1 => "1 unread message".to_owned(),
                    n => format!("{n} unread messages"),
                };
                (count == n && tooltip == want).then_some(())
            },
        );
    }

    fn menu_labels(&self) -> Vec<String> {
        fn walk(v: &Value, out: &mut Vec<String>) {
            if let Some(l) = v["label"].as_str()
                && !l.is_empty()
            {
                out.push(l.to_owned());
            }
            for c in v["children"].as_array().into_iter().flatten() {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.desk.py(&["layout"]), &mut out);
        out
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

fn notify_call(desk: &mut Desktop, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    desk.wait_message(SLOW, what, |m| {
        m["kind"] == "call" && m["member"] == "Notify" && pred(&m["args"])
    })
}

fn screenshot_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/screenshots")
        .join(name)
}

#[test]
fn new_mail_pops_up_escaped_shows_in_the_tray_and_mark_as_read_sets_seen() {
    let mut s = scene(Daemon::Dunst, "");
    s.start_tray();
    s.wait_unread(0);
    let item = s.desk.py(&["item"]);
    assert_eq!(item["title"], "Pushmail");
    assert_eq!(item["category"], "Communications");
    assert!(item["icon_sizes"].as_array().unwrap().len() >= 2, "{item}");

    let subject = "<b>x</b> Tom & Jerry <3";
    let uid =
        s.dc.deliver(
            "alice",
            "INBOX",
            &message(
                "Ana Example <ana@example.com>",
                "alice <alice@example.org>",
                subject,
                "Hello",
            ),
        )
        .unwrap();
    let notify = notify_call(&mut s.desk, "the Notify call", |_| true);
    let args = &notify["args"];
    assert_eq!(args[0], "pushmail", "app name");
    assert_eq!(args[1], 0, "a new popup, not a replacement");
    assert_eq!(args[3], "Ana Example <ana@example.com>", "summary = sender");
    assert_eq!(
        args[4], "&lt;b&gt;x&lt;/b&gt; Tom &amp; Jerry &lt;3",
        "body = subject, markup-escaped"
    );
    assert_eq!(
        args[5],
        serde_json::json!(["default", "Open", "mark-read", "Mark as read"])
    );
    let hints = &args[6];
    assert_eq!(hints["category"], "email.arrived");
    assert_eq!(hints["sound-name"], "message-new-email");
    assert_eq!(
        hints["desktop-entry"], "io.github.pushmail.Pushmail",
        "the installed launcher's id"
    );
    assert!(hints.get("image-data").is_some(), "{hints}");
    let id = s.desk.notification_id(&notify);

    // What dunst shows: the escaped subject, as typed. A test artifact; the README shows a
    // realistic message (`the_readme_notification_shows_a_realistic_message`).
    std::thread::sleep(Duration::from_millis(700));
    s.desk
        .screenshot(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("notification-escaped.png"));

    s.wait_unread(1);
    assert!(
        s.menu_labels().contains(&"Work — 1 unread".to_owned()),
        "{:?}",
        s.menu_labels()
    );
    assert_eq!(s.desk.py(&["get", "UnreadCount"]), 1);
    let activity: Value =
        serde_json::from_str(s.desk.py(&["call", "GetActivity"]).as_str().unwrap()).unwrap();
    assert_eq!(
        activity["notifications"][0]["subject"], subject,
        "{activity}"
    );
    assert_eq!(activity["notifications"][0]["uid"], uid);
    // How soon it was shown after reaching the server (one machine, one clock: plausible and
    // small), and the account's median of the day on D-Bus: of this one message.
    let delay = activity["notifications"][0]["delay_ms"].as_u64();
    assert!(delay.is_some_and(|ms| ms < 3_000), "{activity}");
    let delays = s.desk.py(&["call", "GetDelays"]);
    assert_eq!(delays[0][1].as_u64(), delay, "{delays}");
    assert_eq!(delays[0][2], 1, "{delays}");
    // The D-Bus NewMail signal carried the same, unescaped (it is not markup).
    let signal = s.desk.wait_message(SLOW, "NewMail signal", |m| {
        m["kind"] == "signal" && m["member"] == "NewMail"
    });
    assert_eq!(signal["args"][3], "Ana Example <ana@example.com>");
    assert_eq!(signal["args"][4], subject);

    // "Mark as read" on the popup: \Seen on the server, the count drops, the popup goes.
    s.desk.py(&["action", &id.to_string(), "mark-read"]);
    let dc = &s.dc;
    eventually(SLOW, "\\Seen on the server", || {
        (dc.status("alice", "INBOX").ok()?.unseen == 0).then_some(())
    });
    s.wait_unread(0);
    s.desk.wait_message(SLOW, "the popup withdrawn", |m| {
        m["kind"] == "call" && m["member"] == "CloseNotification" && m["args"][0] == id
    });
    assert!(s.menu_labels().contains(&"Work — no unread".to_owned()));
    let log = s.log();
    assert!(!log.contains("alicepw"), "password in the log:\n{log}");
}

#[test]
fn mail_read_elsewhere_closes_its_popup_and_lowers_the_count() {
    let mut s = scene(Daemon::Dunst, "");
    s.start_tray();
    let uid =
        s.dc.deliver_simple("alice", "INBOX", "Read me on the phone")
            .unwrap();
    let notify = notify_call(&mut s.desk, "the Notify call", |a| {
        a[4] == "Read me on the phone"
    });
    let id = s.desk.notification_id(&notify);
    s.wait_unread(1);

    s.dc.set_seen("alice", "INBOX", uid).unwrap();
    s.desk.wait_message(SLOW, "CloseNotification", |m| {
        m["kind"] == "call" && m["member"] == "CloseNotification" && m["args"][0] == id
    });
    s.desk.wait_message(SLOW, "dunst closing it", |m| {
        m["kind"] == "signal" && m["member"] == "NotificationClosed" && m["args"][0] == id
    });
    s.wait_unread(0);
}

#[test]
fn a_burst_of_mail_becomes_one_summary_not_a_flood() {
    let mut s = scene(Daemon::Dunst, "");
    s.start_tray();
    let mut imap = s.dc.login("alice").unwrap();
    for i in 0..12 {
        let from = format!("Sender {} <s{}@example.com>", i % 5, i % 5);
        imap.append(
            "INBOX",
            &message(
                &from,
                "alice <alice@example.org>",
                &format!("Burst {i}"),
                "x",
            ),
        )
        .unwrap();
    }
    imap.logout().unwrap();
    s.wait_unread(12);
    let summary = notify_call(&mut s.desk, "the summary", |a| {
        a[3] == "12 new messages in Work"
    });
    assert_eq!(
        summary["args"][4],
        "from Sender 0, Sender 1, Sender 2 and 2 others"
    );
    s.desk.collect_for(Duration::from_secs(2));
    let calls = s.desk.notify_calls("Notify");
    let mut ids = std::collections::BTreeSet::new();
    for call in &calls {
        let id = s.desk.notification_id(call);
        ids.insert(id);
    }
    assert!(
        ids.len() <= 5,
        "{} popups for a burst of 12: {calls:#?}",
        ids.len()
    );
    assert!(calls.len() <= 8, "{} Notify calls", calls.len());
}

#[test]
fn open_mail_client_from_the_menu_starts_the_mailto_app_without_arguments() {
    let mut s = scene(Daemon::Dunst, "");
    let (script, out) = recorder(s.desk.dir.path(), "mailer");
    s.desk.set_mail_client(&script);
    s.start_tray();
    let clicked = s.desk.py(&["click", "Open mail client"]);
    assert_eq!(clicked["enabled"], true);
    let args = eventually(SLOW, "the mail client to start", || {
        std::fs::read_to_string(&out).ok()
    });
    assert_eq!(
        args, "--main-window\n",
        "%u must be dropped: no compose window"
    );

    // The account line opens the same (no per-account target configured).
    std::fs::remove_file(&out).unwrap();
    s.desk.py(&["click", "Work — no unread"]);
    eventually(SLOW, "the mail client to start again", || {
        std::fs::read_to_string(&out).ok()
    });
}

#[test]
fn a_second_pushmail_asks_the_first_to_open_settings_and_exits() {
    let mut s = scene(Daemon::Dunst, "");
    let (settings, out) = recorder(s.desk.dir.path(), "settings");
    // Both instances see the fake settings program; only the first may run it.
    let mut first = s.desk.command(pushmail_tests::bin("pushmail"));
    first
        .arg("--config")
        .arg(s.pm.config())
        .env("PUSHMAIL_SETTINGS_PROGRAM", &settings)
        .stderr(std::process::Stdio::null());
    let mut first = first.spawn().unwrap();
    s.desk
        .wait_message(SLOW, "the first tray item", |m| m["kind"] == "registered");
    eventually(SLOW, "the bus name", || {
        (s.desk.try_py(&["has-owner", "io.github.pushmail.Pushmail"]) == Ok(Value::Bool(true)))
            .then_some(())
    });

    let second = s
        .desk
        .command(pushmail_tests::bin("pushmail"))
        .arg("--config")
        .arg(s.pm.config())
        .env("PUSHMAIL_SETTINGS_PROGRAM", &settings)
        .output()
        .unwrap();
    assert!(second.status.success(), "second instance: {second:?}");
    s.desk.wait_message(SLOW, "OpenSettings on the first", |m| {
        m["kind"] == "call" && m["member"] == "OpenSettings"
    });
    let args = eventually(SLOW, "Settings to start", || {
        std::fs::read_to_string(&out).ok()
    });
    assert_eq!(
        args,
        format!("--config\n{}\n", s.pm.config().display()),
        "same --config"
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first keeps running"
    );
    let _ = first.kill();
    let _ = first.wait();
}

#[test]
fn a_hung_notification_daemon_does_not_hold_up_the_count() {
    let mut s = scene(Daemon::Hung, "[notifications]\nnotify_timeout_secs = 1\n");
    s.start_tray();
    for i in 1..=3u64 {
        s.dc.deliver_simple("alice", "INBOX", &format!("While hung {i}"))
            .unwrap();
        s.wait_unread(i);
    }
    assert!(s.desk.py(&["call", "GetAccounts"])[0][2] == "push");
}

#[test]
fn a_saved_config_takes_effect_without_restart_and_quit_exits() {
    let mut s = scene(Daemon::Dunst, "");
    s.start_tray();
    assert!(s.menu_labels().contains(&"Work — no unread".to_owned()));
    let text = std::fs::read_to_string(s.pm.config()).unwrap();
    let renamed = text.replace("name = \"Work\"", "name = \"Renamed\"");
    let tmp = s.pm.config().with_extension("new");
    std::fs::write(&tmp, renamed).unwrap();
    std::fs::rename(&tmp, s.pm.config()).unwrap();
    eventually(Duration::from_secs(5), "the new name in the menu", || {
        s.menu_labels()
            .contains(&"Renamed — no unread".to_owned())
            .then_some(())
    });
    // Pause from the menu shows in the D-Bus properties; Resume ends it.
    s.desk.py(&["click", "For 1 hour"]);
    eventually(Duration::from_secs(5), "Paused", || {
        (s.desk.py(&["get", "Paused"]) == Value::Bool(true)).then_some(())
    });
    let until = s.desk.py(&["get", "PausedUntil"]).as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((until - now - 3600).abs() < 10, "{until} vs {now}");
    s.desk.py(&["call", "Resume"]);
    eventually(Duration::from_secs(5), "resumed", || {
        (s.desk.py(&["get", "Paused"]) == Value::Bool(false)).then_some(())
    });

    s.desk.py(&["call", "Quit"]);
    let tray = s.tray.as_mut().unwrap();
    let status = tray
        .wait_exit(Duration::from_secs(10))
        .expect("exit after Quit");
    assert!(status.success(), "{status:?}\n{}", tray.log());
    assert_eq!(
        s.desk.try_py(&["has-owner", "io.github.pushmail.Pushmail"]),
        Ok(Value::Bool(false))
    );
}

/// Settings → General saves `[general] language`; the running tray re-reads the file and its
/// menu and tooltip switch language without a restart.
#[test]
fn a_language_change_in_the_config_switches_the_tray_menu_and_tooltip() {
    let mut s = scene(Daemon::Dunst, "[general]\nlanguage = \"en\"\n");
    s.start_tray();
    assert!(s.menu_labels().contains(&"Work — no unread".to_owned()));
    let text = std::fs::read_to_string(s.pm.config()).unwrap();
    let tmp = s.pm.config().with_extension("new");
    for (lang, line, title, quit) in [
        (
            "ar",
            "Work — لا رسائل غير مقروءة",
            "لا توجد رسائل غير مقروءة",
            "إنهاء",
        ),
        ("zh-TW", "Work — 沒有未讀", "沒有未讀郵件", "結束"),
    ] {
        let changed = text.replace("language = \"en\"", &format!("language = \"{lang}\""));
        std::fs::write(&tmp, changed).unwrap();
        std::fs::rename(&tmp, s.pm.config()).unwrap();
        eventually(
            Duration::from_secs(5),
            &format!("the menu in {lang}"),
            || {
                let labels = s.menu_labels();
                (labels.contains(&line.to_owned()) && labels.contains(&quit.to_owned()))
                    .then_some(())
            },
        );
        assert_eq!(s.desk.py(&["item"])["tooltip_title"], title);
    }
}

#[test]
fn dbus_methods_check_now_mark_read_pause_and_reload() {
    let mut s = scene(Daemon::Dunst, "");
    s.start_tray();
    let account = s.desk.py(&["call", "GetAccounts"])[0][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(s.desk.try_py(&["call", "CheckNow", "[\"\"]"]).is_ok());
    let err = s
        .desk
        .try_py(&["call", "CheckNow", "[\"nobody\"]"])
        .unwrap_err();
    assert!(err.contains("InvalidArgs"), "{err}");

    let uid =
        s.dc.deliver_simple("alice", "INBOX", "Mark me over D-Bus")
            .unwrap();
    s.wait_unread(1);
    let status = s.dc.status("alice", "INBOX").unwrap();
    let args = format!("[\"{account}\", \"INBOX\", {}, {uid}]", status.uidvalidity);
    s.desk.py(&["call", "MarkRead", &args]);
    assert_eq!(
        s.dc.status("alice", "INBOX").unwrap().unseen,
        0,
        "done when it returns"
    );
    s.wait_unread(0);
    // A stale UIDVALIDITY marks nothing.
    let uid =
        s.dc.deliver_simple("alice", "INBOX", "Not this one")
            .unwrap();
    s.wait_unread(1);
    let stale = format!(
        "[\"{account}\", \"INBOX\", {}, {uid}]",
        status.uidvalidity + 1
    );
    let err = s.desk.try_py(&["call", "MarkRead", &stale]).unwrap_err();
    assert!(err.contains("changed since"), "{err}");
    assert_eq!(s.dc.status("alice", "INBOX").unwrap().unseen, 1);

    s.desk.py(&["call", "Pause", "[0]"]);
    assert_eq!(s.desk.py(&["get", "Paused"]), Value::Bool(true));
    assert_eq!(s.desk.py(&["get", "PausedUntil"]), 0);
    // Mail during a pause: counted, announced on D-Bus, no popup.
    s.dc.deliver_simple("alice", "INBOX", "While paused")
        .unwrap();
    s.wait_unread(2);
    s.desk.wait_message(SLOW, "NewMail while paused", |m| {
        m["member"] == "NewMail" && m["args"][4] == "While paused"
    });
    s.desk.collect_for(Duration::from_millis(500));
    assert!(
        !s.desk
            .notify_calls("Notify")
            .iter()
            .any(|c| c["args"][4] == "While paused"),
        "no popup while paused"
    );

    // Reload: a broken file is refused with its error, the old configuration stays.
    let good = std::fs::read_to_string(s.pm.config()).unwrap();
    std::fs::write(s.pm.config(), format!("{good}\nbogus_key = 1\n")).unwrap();
    let err = s.desk.try_py(&["call", "Reload"]).unwrap_err();
    assert!(err.contains("bogus_key"), "{err}");
    assert_eq!(s.desk.py(&["call", "GetAccounts"])[0][2], "push");
    std::fs::write(s.pm.config(), &good).unwrap();
    s.desk.py(&["call", "Reload"]);
}

/// The always-on process must not carry a browser engine (see docs/benchmarks.md).
#[test]
fn the_tray_binary_links_no_tauri_gtk_or_webkit() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "-p", "pushmail", "-e", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"pushmail-core"), "{tree}");
    for c in &crates {
        assert!(
            !(c.starts_with("tauri")
                || c.starts_with("gtk")
                || c.starts_with("webkit2gtk")
                || *c == "wry"
                || *c == "tao"
                || c.starts_with("gdk")),
            "{c} is linked into pushmail"
        );
    }
}

/// Resident memory of the release `pushmail`, idle (all accounts in IDLE, popups and tray
/// registered), with 1 and with 100 accounts. Run by hand (needs `cargo build --release -p
/// pushmail`), figures go to docs/benchmarks.md:
/// `cargo test -p pushmail-tests --test tray -- --ignored --nocapture idle_memory`
#[test]
#[ignore = "measurement; run by hand with a release build"]
fn idle_memory_of_the_release_binary() {
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/pushmail");
    assert!(
        release.is_file(),
        "build it first: cargo build --release -p pushmail"
    );
    for n in [1usize, 100] {
        let dc = Dovecot::start(DovecotOptions::default()).unwrap();
        let pm = Pushmail::new();
        let mut blocks = Vec::new();
        for i in 0..n {
            let user = format!("user{i}");
            dc.add_user(&user, "pw").unwrap();
            let id = unique_id("acct");
            blocks.push(pm.account_toml(&dc, &id, &user, Via::Tls, "pw", ""));
        }
        pm.write_config(&blocks);
        let mut desk = Desktop::start(Daemon::Dunst);
        let mut child = desk
            .command(&release)
            .arg("--config")
            .arg(pm.config())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        desk.wait_message(SLOW, "tray item", |m| m["kind"] == "registered");
        eventually(Duration::from_secs(120), "every account in push", || {
            let rows = desk.try_py(&["call", "GetAccounts"]).ok()?;
            let rows = rows.as_array()?;
            (rows.len() == n && rows.iter().all(|r| r[2] == "push")).then_some(())
        });
        std::thread::sleep(Duration::from_secs(10));
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
                .unwrap_or_default()
        };
        eprintln!(
            "accounts={n} VmRSS={} kB RssAnon={} kB RssFile={} kB Threads={}",
            field("VmRSS:"),
            field("RssAnon:"),
            field("RssFile:"),
            field("Threads:")
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Issue 16 §1 and §2 on the desktop. A server that will not encrypt (STARTTLS stripped, as an
/// attacker or a hotel portal would) makes the account need attention — the tray's look, one
/// popup however many retries, `error` over D-Bus — until it connects again. Then a message
/// whose FETCH does not parse pops up as "could not be read", and the message after it pops up
/// as usual.
#[test]
fn a_security_problem_and_an_unreadable_message_reach_the_tray() {
    let server = ScriptedServer::start(Listen::Plain, |_| Script::starttls_stripped()).unwrap();
    let pm = Pushmail::new();
    let pw = pm.password_file("shop-pw");
    pm.write_config(&[format!(
        "[[accounts]]\nid = \"{id}\"\nname = \"Shop\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         security = \"starttls\"\nusername = \"alice\"\npassword_command = [\"cat\", \"{pw}\"]\n\
         ca_file = \"{ca}\"\nbackoff_min_secs = 1\nbackoff_max_secs = 2\nmax_logins_per_minute = 60\n",
        id = unique_id("shop"),
        port = server.port(),
        pw = pw.display(),
        ca = server.ca_file().display(),
    )]);
    let mut desk = Desktop::start(Daemon::Dunst);
    let tray = Tray::start(&desk, &pm.config());
    desk.wait_message(SLOW, "the tray item to register", |m| {
        m["kind"] == "registered"
    });
    let attention = notify_call(&mut desk, "the attention popup", |a| {
        a[3] == "Shop needs attention"
    });
    assert!(
        attention["args"][4]
            .as_str()
            .unwrap()
            .contains("does not offer STARTTLS"),
        "{attention}"
    );
    {
        let desk = &desk;
        eventually(SLOW, "error over D-Bus and the attention look", || {
            let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
            let status = desk.py(&["item"])["status"].as_str()?.to_owned();
            (accounts[0][2] == "error" && status == "NeedsAttention").then_some(())
        });
    }
    // Three more refused attempts: still attention, still one popup.
    assert!(pushmail_tests::wait_until(SLOW, || Ok(server.connections() >= 4)).unwrap());
    desk.collect_for(Duration::from_millis(800));
    assert_eq!(desk.py(&["item"])["status"], "NeedsAttention");
    let popups = desk
        .notify_calls("Notify")
        .into_iter()
        .filter(|m| m["args"][3] == "Shop needs attention")
        .count();
    assert_eq!(popups, 1, "one popup per problem, not per retry");
    assert!(!server.credentials_seen(), "a password was sent");

    // The network is fine again: the look clears by itself.
    server.set_script(move |_| Script::starttls());
    {
        let desk = &desk;
        eventually(SLOW, "push and the normal look", || {
            let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
            let status = desk.py(&["item"])["status"].as_str()?.to_owned();
            (accounts[0][2] == "push" && status != "NeedsAttention").then_some(())
        });
    }

    let section = "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]";
    let garbage = format!("* {{seq}} FETCH (UID {{uid}} FLAGS () {section} ((((\"\r\n");
    server.with_mailbox(|m| m.add_hostile("never shown", None, Some(garbage.into_bytes())));
    server.deliver("After the unreadable one");
    notify_call(&mut desk, "the unreadable message's popup", |a| {
        a[4] == "(this message could not be read)"
    });
    notify_call(&mut desk, "the next message's popup", |a| {
        a[4] == "After the unreadable one"
    });
    let log = tray.log();
    assert!(!log.contains("shop-pw"), "password in the log:\n{log}");
}

/// The README's picture of a notification: a message from the demo's sample mail
/// (`tests/src/bin/pushmail-demo.rs`), the first thing a new user sees. Hostile subjects stay in
/// `new_mail_pops_up_escaped_shows_in_the_tray_and_mark_as_read_sets_seen`.
#[test]
fn the_readme_notification_shows_a_realistic_message() {
    let mut s = scene(Daemon::Dunst, "");
    s.start_tray();
    let (from, subject) = (
        "Ana Pérez <ana@example.com>",
        "Welcome to Pushmail — this arrived by push",
    );
    s.dc.deliver(
        "alice",
        "INBOX",
        &message(from, "alice <alice@example.org>", subject, "Hello!"),
    )
    .unwrap();
    let notify = notify_call(&mut s.desk, "the Notify call", |a| a[4] == subject);
    assert_eq!(notify["args"][3], from);
    std::thread::sleep(Duration::from_millis(700));
    s.desk.screenshot(&screenshot_path("notification.png"));
}

/// Logins of `user` in Dovecot's log so far (`imap-login: Info: Login: user=<alice>, …`).
fn logins(dc: &Dovecot, user: &str) -> usize {
    let needle = format!("Login: user=<{user}>");
    dc.log().lines().filter(|l| l.contains(&needle)).count()
}

/// Issue 15: a resume from sleep costs each account exactly one new login. The core is the one
/// detector, whoever tells: logind's `PrepareForSleep(false)` (here on a private bus given as
/// `--power-bus`), or, on a machine without logind, a wall clock that ran ahead of the monotonic
/// one. The tray used to watch the clock as well, without the core's debounce, so a resume
/// nobody announced logged every account in twice.
#[test]
fn a_resume_from_sleep_logs_in_again_exactly_once() {
    /// Long enough for every detector to have looked: the core compares the clocks every 5 s
    /// (`CLOCK_CHECK`) and folds triggers within 1 s (`DEBOUNCE`).
    const SETTLE: Duration = Duration::from_secs(8);
    let mut s = scene(Daemon::None, "");
    let logind = faults::PrivateBus::start();
    let mut clock = WallClock::new(s.desk.dir.path());
    let tray = Tray::start_with(
        &s.desk,
        &s.pm.config(),
        &["--power-bus", logind.address()],
        &clock.env(),
    );
    s.run_tray(tray);
    let wait_push = |s: &Scene| {
        eventually(SLOW, "the account back in push", || {
            (s.desk.try_py(&["call", "GetAccounts"]).ok()?[0][2] == "push").then_some(())
        })
    };

    // logind announces the resume.
    let before = logins(&s.dc, "alice");
    assert!(before >= 1, "{}", s.dc.log());
    logind.prepare_for_sleep(true);
    logind.prepare_for_sleep(false);
    let dc = &s.dc;
    eventually(SLOW, "a new login after PrepareForSleep(false)", || {
        (logins(dc, "alice") > before).then_some(())
    });
    wait_push(&s);
    std::thread::sleep(SETTLE);
    assert_eq!(logins(&s.dc, "alice"), before + 1, "{}", s.log());
    assert!(
        s.log().contains("resumed from sleep: reconnecting"),
        "{}",
        s.log()
    );

    // Nobody announces it: only the clocks tell (two minutes of sleep).
    let before = logins(&s.dc, "alice");
    clock.jump(120);
    let dc = &s.dc;
    eventually(SLOW, "a new login after the clock jump", || {
        (logins(dc, "alice") > before).then_some(())
    });
    wait_push(&s);
    std::thread::sleep(SETTLE);
    assert_eq!(logins(&s.dc, "alice"), before + 1, "{}", s.log());
    assert!(s.log().contains("the clock jumped"), "{}", s.log());
}

/// A POP3 account in the tray: its popup offers no "Mark as read" (POP3 has no flags), its count
/// is "new since you last opened your mail client" and clears when the user opens it from the
/// menu (the popup goes too), and the tooltip says what POP3 cannot do.
#[test]
fn a_pop3_account_counts_new_mail_until_the_mail_client_is_opened() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("isp");
    pm.write_config(&[pm.pop3_account_toml(
        &dc,
        &id,
        "alice",
        Via::Tls,
        "alicepw",
        "name = \"ISP\"",
    )]);
    let desk = Desktop::start(Daemon::Dunst);
    let (script, out) = recorder(desk.dir.path(), "mailer");
    desk.set_mail_client(&script);
    let mut s = Scene {
        dc,
        pm,
        desk,
        tray: None,
    };
    s.tray = Some(Tray::start(&s.desk, &s.pm.config()));
    s.desk.wait_message(SLOW, "the tray item to register", |m| {
        m["kind"] == "registered"
    });
    let desk = &s.desk;
    eventually(SLOW, "the POP3 account to be polling", || {
        let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
        (accounts[0][2] == "polling").then_some(())
    });
    s.wait_unread(0);
    let body = s.desk.py(&["item"])["tooltip_body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body,
        "ISP — no unread (POP3: checked every 1 s; POP3 cannot tell when you read mail elsewhere)"
    );

    s.dc.deliver_simple("alice", "INBOX", "From the old ISP")
        .unwrap();
    let notify = notify_call(&mut s.desk, "the Notify call", |a| {
        a[4] == "From the old ISP"
    });
    assert_eq!(
        notify["args"][5],
        serde_json::json!(["default", "Open"]),
        "no Mark as read for POP3"
    );
    let popup = s.desk.notification_id(&notify);
    s.wait_unread(1);
    assert!(
        s.menu_labels().contains(&"ISP — 1 unread".to_owned()),
        "{:?}",
        s.menu_labels()
    );

    // Opening the mail client: it starts, the count starts over, the popup goes.
    s.desk.py(&["click", "Open mail client"]);
    eventually(SLOW, "the mail client to start", || {
        std::fs::read_to_string(&out).ok()
    });
    s.wait_unread(0);
    s.desk.wait_message(SLOW, "the popup withdrawn", |m| {
        m["kind"] == "call" && m["member"] == "CloseNotification" && m["args"][0] == popup
    });

    // What arrives after that is new again, counted once.
    s.dc.deliver_simple("alice", "INBOX", "After opening")
        .unwrap();
    notify_call(&mut s.desk, "the next Notify call", |a| {
        a[4] == "After opening"
    });
    s.wait_unread(1);
    for l in s.dc.pop3_logouts("alice") {
        assert_eq!((l.del, l.retr), (0, 0), "{l:?}");
    }
    assert_eq!(s.dc.status("alice", "INBOX").unwrap().unseen, 2);
}
