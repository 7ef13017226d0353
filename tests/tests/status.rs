//! `pushmail-cli status` end to end: the real CLI asks the real tray, on a private desktop's
//! session bus, about accounts on a private Dovecot — what a terminal, a script and a status bar
//! (waybar, polybar) read, how `--watch` follows the tray without polling, and how it fails
//! when there is no tray or no bus.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::{Output, Pushmail, Via, unique_id};
use desktop::{Daemon, Desktop, Tray, eventually};
use pushmail_tests::{Dovecot, DovecotOptions, bin};
use serde_json::Value;

const SLOW: Duration = Duration::from_secs(20);
const TRAY_NAME: &str = "io.github.pushmail.Pushmail";

/// A Dovecot with alice and bob; accounts Work (alice), Home (bob) and Old (alice with a wrong
/// password, so it ends in `auth_failed`); a desktop; no tray yet.
struct Scene {
    dc: Dovecot,
    pm: Pushmail,
    desk: Desktop,
    ids: [String; 3],
    tray: Option<Tray>,
}

fn scene() -> Scene {
    let dc = Dovecot::start(DovecotOptions {
        users: vec![
            ("alice".to_owned(), "alicepw".to_owned()),
            ("bob".to_owned(), "bobpw".to_owned()),
        ],
        ..DovecotOptions::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    let ids = [unique_id("work"), unique_id("home"), unique_id("old")];
    pm.write_config(&[
        pm.account_toml(
            &dc,
            &ids[0],
            "alice",
            Via::Tls,
            "alicepw",
            "name = \"Work\"",
        ),
        pm.account_toml(&dc, &ids[1], "bob", Via::Tls, "bobpw", "name = \"Home\""),
        pm.account_toml(&dc, &ids[2], "alice", Via::Tls, "wrong", "name = \"Old\""),
    ]);
    let desk = Desktop::start(Daemon::Dunst);
    Scene {
        dc,
        pm,
        desk,
        ids,
        tray: None,
    }
}

impl Scene {
    /// Starts the tray and waits until Work and Home watch and Old's password was refused.
    fn start_tray(&mut self) {
        self.tray = Some(Tray::start(&self.desk, &self.pm.config()));
        let desk = &self.desk;
        eventually(SLOW, "push, push, auth_failed over D-Bus", || {
            let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
            let states: Vec<&str> = accounts
                .as_array()?
                .iter()
                .filter_map(|a| a[2].as_str())
                .collect();
            (states == ["push", "push", "auth_failed"]).then_some(())
        });
    }

    fn wait_unread(&self, n: u64) {
        eventually(SLOW, &format!("{n} unread over D-Bus"), || {
            (self
                .desk
                .try_py(&["call", "GetUnreadCount"])
                .ok()?
                .as_u64()?
                == n)
                .then_some(())
        });
    }

    /// Runs `pushmail-cli --config … status ARGS` inside the desktop.
    fn status(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        status_in(&self.desk, &self.pm, args, env)
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

fn status_in(desk: &Desktop, pm: &Pushmail, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = desk.command(bin("pushmail-cli"));
    cmd.arg("--config")
        .arg(pm.config())
        .arg("status")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run pushmail-cli status");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `status --watch …`, its lines read on a thread.
struct Follow {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Follow {
    fn start(s: &Scene, args: &[&str]) -> Follow {
        let mut child = s
            .desk
            .command(bin("pushmail-cli"))
            .arg("--config")
            .arg(s.pm.config())
            .args(["status", "--watch"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn status --watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Follow {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line, as waybar JSON, that matches `pred` (lines before it are kept in `seen`).
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + SLOW;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                panic!(
                    "timed out waiting for {what}; lines so far:\n{}",
                    self.seen.join("\n")
                );
            };
            self.seen.push(line.clone());
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if pred(&v) {
                return v;
            }
        }
    }

    /// Lines printed within `d`.
    fn lines_within(&mut self, d: Duration) -> Vec<String> {
        let deadline = Instant::now() + d;
        let mut out = Vec::new();
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            out.push(line);
        }
        out
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(out: &Output) -> Value {
    assert_eq!(out.code, Some(0), "{out:?}");
    serde_json::from_str(out.stdout.trim_end())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"))
}

#[test]
fn status_reads_counts_and_states_from_the_tray_in_every_form() {
    let mut s = scene();
    s.start_tray();
    for _ in 0..2 {
        s.dc.deliver_simple("alice", "INBOX", "For Work").unwrap();
    }
    s.dc.deliver_simple("bob", "INBOX", "For Home").unwrap();
    s.wait_unread(3);

    // The one line, in the user's language (LANG, as the configuration says "auto").
    let out = s.status(&[], &[]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(0),
            "3 unread — Work 2, Home 1 · Old: password rejected\n",
            ""
        ),
    );
    let ar = s.status(&[], &[("LANG", "ar_EG.UTF-8")]);
    assert_eq!(
        ar.stdout, "3 رسائل غير مقروءة — Work 2، Home 1؛ Old: رُفضت كلمة المرور\n",
        "{ar:?}"
    );
    let zh = s.status(&[], &[("LANG", "zh_CN.UTF-8")]);
    assert_eq!(
        zh.stdout, "3 封未读 — Work 2、Home 1；Old：密码被拒绝\n",
        "{zh:?}"
    );
    let polybar = s.status(&["--polybar"], &[]);
    assert_eq!(polybar.stdout, out.stdout, "{polybar:?}");

    // The documented JSON: ids, names, state words and counts as the tray has them.
    let v = json(&s.status(&["--json"], &[("LANG", "ar_EG.UTF-8")]));
    assert_eq!(v["running"], true);
    assert_eq!(v["total"], 3);
    assert_eq!(v["paused"], false);
    assert_eq!(v["paused_until"], 0);
    let accounts = v["accounts"].as_array().unwrap();
    let rows: Vec<(&str, &str, &str, u64)> = accounts
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap(),
                a["name"].as_str().unwrap(),
                a["state"].as_str().unwrap(),
                a["unread"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (s.ids[0].as_str(), "Work", "push", 2),
            (s.ids[1].as_str(), "Home", "push", 1),
            (s.ids[2].as_str(), "Old", "auth_failed", 0),
        ]
    );
    assert_eq!(accounts[0]["detail"], "");
    let detail = accounts[2]["detail"].as_str().unwrap();
    assert!(
        detail.contains("login failed"),
        "the tray's sentence: {detail}"
    );

    // What waybar reads.
    let v = json(&s.status(&["--waybar"], &[]));
    assert_eq!(v["text"], "3");
    assert_eq!(v["alt"], "attention");
    assert_eq!(v["class"], serde_json::json!(["attention", "unread"]));
    let tooltip = v["tooltip"].as_str().unwrap();
    assert!(
        tooltip.starts_with(
            "3 unread messages\nWork — 2 unread\nHome — 1 unread\nOld — password rejected\nlogin failed"
        ),
        "{tooltip}"
    );

    // A pause shows in every form.
    s.desk.py(&["call", "Pause", "[600]"]);
    let v = eventually(SLOW, "paused in the JSON", || {
        let v = json(&s.status(&["--json"], &[]));
        (v["paused"] == true).then_some(v)
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (v["paused_until"].as_i64().unwrap() - now - 600).abs() < 10,
        "{v}"
    );
    assert!(
        s.status(&[], &[])
            .stdout
            .ends_with(" · Notifications paused\n"),
        "paused in the line"
    );
    let v = json(&s.status(&["--waybar"], &[]));
    assert_eq!(
        v["class"],
        serde_json::json!(["attention", "paused", "unread"])
    );
}

/// A bar starts `status --watch` at login, maybe before the tray: it shows "not running", then
/// follows the tray's signals — a new line per change, none while nothing changes — and
/// notices when the tray quits and comes back.
#[test]
fn status_watch_follows_the_tray_without_polling() {
    let mut s = scene();
    let mut bar = Follow::start(&s, &["--waybar"]);
    let v = bar.wait_for("the not-running line", |_| true);
    assert_eq!(v["alt"], "not-running", "{v}");
    assert_eq!(v["text"], "");
    assert_eq!(
        v["tooltip"],
        "Pushmail is not running — start it with `pushmail`"
    );

    s.start_tray();
    bar.wait_for("attention for Old, nothing unread", |v| {
        v["alt"] == "attention" && v["text"] == "0"
    });
    s.dc.deliver_simple("bob", "INBOX", "For Home").unwrap();
    let v = bar.wait_for("the new count", |v| v["text"] == "1");
    assert!(
        v["tooltip"]
            .as_str()
            .unwrap()
            .contains("\nHome — 1 unread\n"),
        "{v}"
    );

    // Nothing changes: no new line, and no call to the tray (no polling).
    s.desk.collect_for(Duration::from_millis(500));
    let mark = s.desk.seen.len();
    assert_eq!(
        bar.lines_within(Duration::from_secs(3)),
        Vec::<String>::new()
    );
    s.desk.collect_for(Duration::from_millis(200));
    let calls = s.desk.seen[mark..]
        .iter()
        .filter(|m| m["kind"] == "call" && m["member"] == "GetAccounts")
        .count();
    assert_eq!(calls, 0, "the watcher asked the tray while nothing changed");

    // A pause is a property change, followed too (and the check above is not blind: this
    // reading shows on the bus).
    s.desk.py(&["call", "Pause", "[0]"]);
    bar.wait_for("the paused class", |v| {
        v["class"]
            .as_array()
            .is_some_and(|c| c.contains(&"paused".into()))
    });
    s.desk.collect_for(Duration::from_millis(200));
    assert!(
        s.desk.seen[mark..]
            .iter()
            .any(|m| m["kind"] == "call" && m["member"] == "GetAccounts"),
        "the watcher's reading after the pause was not seen"
    );
    s.desk.py(&["call", "Resume"]);
    bar.wait_for("the pause ended", |v| {
        v["class"]
            .as_array()
            .is_some_and(|c| !c.contains(&"paused".into()))
    });

    // The tray quits: the bar says so, and a single `status` fails with its own exit status.
    s.desk.py(&["call", "Quit"]);
    let tray = s.tray.as_mut().unwrap();
    assert!(
        tray.wait_exit(Duration::from_secs(10)).is_some(),
        "exit after Quit"
    );
    bar.wait_for("not running again", |v| v["alt"] == "not-running");
    let out = s.status(&[], &[]);
    assert_eq!(out.code, Some(3), "{out:?}");

    // It comes back: the bar follows without being restarted.
    s.start_tray();
    bar.wait_for("the count from the new tray", |v| v["text"] == "1");
    assert_eq!(
        s.desk.try_py(&["has-owner", TRAY_NAME]),
        Ok(Value::Bool(true))
    );
}

/// No tray: a clear sentence in the user's language and exit status 3, nothing on stdout, no
/// panic. No session bus at all: status 1 and what to do.
#[test]
fn without_a_tray_or_a_bus_status_fails_cleanly() {
    let pm = Pushmail::new();
    pm.write_config(&[]);
    let desk = Desktop::start(Daemon::None);
    for args in [&[][..], &["--json"], &["--waybar"], &["--polybar"]] {
        let out = status_in(&desk, &pm, args, &[]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                Some(3),
                "",
                "Pushmail is not running — start it with `pushmail`\n"
            ),
            "{args:?}"
        );
    }
    let out = status_in(&desk, &pm, &[], &[("LANG", "zh_TW.UTF-8")]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (Some(3), "Pushmail 未在執行 — 請用 `pushmail` 啟動它\n")
    );
    let out = status_in(&desk, &pm, &[], &[("LANG", "ar_EG.UTF-8")]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (Some(3), "Pushmail لا يعمل — شغّله بالأمر `pushmail`\n")
    );

    let gone = desk.dir.path().join("no-such-bus");
    let address = format!("unix:path={}", gone.display());
    let out = status_in(
        &desk,
        &pm,
        &["--json"],
        &[("DBUS_SESSION_BUS_ADDRESS", address.as_str())],
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("Cannot reach the desktop's D-Bus session bus ("),
        "{out:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{out:?}");
}
