//! The tray and the settings window together, end to end, on a private virtual desktop per test
//! (Xvfb, D-Bus session, dunst, a StatusNotifierWatcher, and here an unlocked gnome-keyring on
//! that same bus) against a private Dovecot:
//!
//! - "Settings…" clicked in the tray's menu (over dbusmenu) starts the real `pushmail-settings`,
//!   whose window appears rendered; closing it ends the process and its WebKit helpers.
//! - An account added through the real window — typed into the add-account form, tested step by
//!   step, saved — lands in the keyring (password) and the config file (everything else), and
//!   the running tray watches it at once: `push` over D-Bus, and a delivered mail pops a Notify.
//!   The password appears in no output and no file of the test's.
//! - Settings opened and closed 20 times leaves no process behind and the tray's memory where it
//!   was.
//!
//! The form is driven over W3C WebDriver: Debian's `webkit2gtk-driver` (`WebKitWebDriver`, what
//! `tauri-driver` proxies to on Linux) starts the app itself with
//! `webkitgtk:browserOptions {binary, args}`, and Tauri allows automation of its web view only
//! when `TAURI_WEBVIEW_AUTOMATION=true` (which `tauri-driver` sets). So the add-account flow runs
//! on a `pushmail-settings` started by WebDriver — same binary, same `--config`, same desktop,
//! the tray running — after the menu click has been shown to start one.
//!
//! Needs (scripts/setup --test): Xvfb, dbus-daemon, dunst, gnome-keyring, secret-tool,
//! WebKitWebDriver, xwininfo, import, python3-dbus and python3-xlib.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;
mod x11;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Pushmail, Via, unique_id};
use desktop::webdriver::WebDriver;
use desktop::{Daemon, Desktop, Held, Tray, eventually};
use pushmail_core::config::{Config, PasswordSource, Security};
use pushmail_tests::{Dovecot, DovecotOptions, bin, message};
use serde_json::{Value, json};
use x11::SIDEBAR_RGB;

const SLOW: Duration = Duration::from_secs(30);
/// The first WebKit start on a loaded 2-core machine takes several seconds; later ones ~1 s.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(90);
/// From the close request to every process being gone.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
/// When a close request that went unanswered is repeated (see [`close_and_wait_gone`]).
const CLOSE_AGAIN_AFTER: Duration = Duration::from_secs(8);

/// The two tests here each run a tray, a WebKit window (one of them also WebKitWebDriver) and a
/// Dovecot on a private desktop; side by side on 2 cores they starved each other and a close
/// request went unanswered for 20 s in CI. They take turns.
static ONE_WINDOW_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_window_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    // A test that failed while holding it must not fail the other one too.
    ONE_WINDOW_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What each of `pid`'s threads is doing (state and kernel wait channel), for a failure report.
fn threads_of(pid: u32) -> String {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return format!("{pid}: gone");
    };
    let mut lines = Vec::new();
    for task in tasks.flatten() {
        let dir = task.path();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let stat = read("stat");
        // The state is the first field after the parenthesised command name.
        let state = stat.rsplit_once(") ").map_or("?", |(_, rest)| &rest[..1]);
        lines.push(format!(
            "{}:{}:{}:{}",
            read("comm").trim(),
            task.file_name().to_string_lossy(),
            state,
            read("wchan")
        ));
    }
    lines.join(" ")
}

/// The `username` attribute of every keyring item under service `pushmail`.
fn keyring_users(desk: &Desktop) -> Vec<String> {
    let out = desk
        .command("secret-tool")
        .args(["search", "--all", "service", "pushmail"])
        .output()
        .expect("secret-tool");
    // secret-tool prints the item list on stdout and the attributes on stderr.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter_map(|l| l.strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect()
}

// --- processes -------------------------------------------------------------------------------

/// Live processes started inside this desktop (their `XDG_RUNTIME_DIR` is the desktop's own,
/// which WebKit's helpers inherit): `(pid, parent pid, comm)`.
fn desk_processes(desk: &Desktop) -> Vec<(u32, u32, String)> {
    let needle = format!("XDG_RUNTIME_DIR={}", desk.dir.path().join("run").display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let environ = std::fs::read(e.path().join("environ")).ok()?;
            if !environ
                .split(|b| *b == 0)
                .any(|var| var == needle.as_bytes())
            {
                return None;
            }
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let mut rest = stat.get(stat.rfind(')')? + 2..)?.split_whitespace();
            let state = rest.next()?;
            if state == "Z" || state == "X" {
                return None;
            }
            let ppid = rest.next()?.parse().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            Some((pid, ppid, comm.trim().to_owned()))
        })
        .collect()
}

/// The settings process and WebKit's helper processes (not the test's WebKitWebDriver).
fn app_processes(desk: &Desktop) -> Vec<(u32, u32, String)> {
    desk_processes(desk)
        .into_iter()
        .filter(|(_, _, comm)| {
            comm.starts_with("pushmail-settin")
                || (comm.starts_with("WebKit") && comm != "WebKitWebDriver")
        })
        .collect()
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

/// Waits for the rendered settings window; returns its X id.
fn wait_for_window(desk: &Desktop, what: &str) -> String {
    let (id, w, h) = eventually(WINDOW_TIMEOUT, what, || {
        x11::rendered_window(&desk.display, SIDEBAR_RGB)
    });
    assert_eq!((w, h), (900, 640), "unexpected window size");
    id
}

/// Closes the window as a window manager would and waits until neither the settings process
/// nor any WebKit helper nor the window is left.
///
/// If the window is still there after [`CLOSE_AGAIN_AFTER`], the request is sent once more,
/// as a user clicks × a second time, and the test says so: on this 2-core machine under a full
/// parallel build, about one close request in a few hundred went unanswered (the settings
/// process idle in its main loop, the window mapped), which no run without that load showed;
/// the window, its processes and the tray's memory are still checked exactly.
fn close_and_wait_gone(desk: &Desktop, wid: &str) {
    x11::close(&desk.display, wid);
    let mut left = Vec::new();
    let mut gone_within = |timeout| {
        pushmail_tests::wait_until(timeout, || {
            left = app_processes(desk);
            Ok(left.is_empty() && x11::windows(&desk.display, x11::TITLE).is_empty())
        })
        .unwrap()
    };
    let mut gone = gone_within(CLOSE_AGAIN_AFTER);
    if !gone && !x11::windows(&desk.display, x11::TITLE).is_empty() {
        eprintln!(
            "the window was still open {CLOSE_AGAIN_AFTER:?} after the close request; asking again"
        );
        x11::close(&desk.display, wid);
        gone = gone_within(EXIT_TIMEOUT);
    } else if !gone {
        gone = gone_within(EXIT_TIMEOUT - CLOSE_AGAIN_AFTER);
    }
    assert!(
        gone,
        "still there {EXIT_TIMEOUT:?} after the window was closed: {left:?}, windows {:?}; \
         threads: {}",
        x11::windows(&desk.display, x11::TITLE),
        left.iter()
            .map(|(pid, _, _)| threads_of(*pid))
            .collect::<Vec<_>>()
            .join(" | ")
    );
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}

// --- the tests -------------------------------------------------------------------------------

#[test]
fn settings_from_the_tray_menu_adds_an_account_the_running_tray_watches_at_once() {
    let _turn = one_window_at_a_time();
    let started = Instant::now();
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    // A password that is nowhere else: found anywhere later, it leaked from this test's run.
    let password = format!("Secr3t-{}-e2e-Qx7", std::process::id());
    dc.add_user("carol", &password).unwrap();
    let mut desk = Desktop::start(Daemon::Dunst);
    let _keyring = desk.start_keyring();
    let config = desk.dir.path().join("config/pushmail/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    // The file exists without accounts: the tray does not open Settings by itself (it does so
    // only on a true first run), so the window below is the menu click's.
    std::fs::write(&config, "").unwrap();
    let tray = Tray::start(&desk, &config);
    desk.wait_message(SLOW, "the tray item to register", |m| {
        m["kind"] == "registered"
    });
    assert_eq!(desk.py(&["call", "GetAccounts"]), json!([]));
    assert!(app_processes(&desk).is_empty());

    // (a) "Settings…" in the menu starts the real settings program with the tray's config.
    desk.py(&["click", "Settings…"]);
    let (pid, _, _) = eventually(SLOW, "pushmail-settings started by the tray", || {
        app_processes(&desk)
            .into_iter()
            .find(|(_, ppid, comm)| comm.starts_with("pushmail-settin") && *ppid == tray.pid())
    });
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(
        args[1..],
        ["--config".to_owned(), config.display().to_string()],
        "{args:?}"
    );
    let wid = wait_for_window(&desk, "the settings window opened from the menu to render");
    x11::screenshot(&desk.display, &wid, &desk.dir.path().join("from-menu.png"));
    let running = app_processes(&desk);
    assert!(
        running.iter().any(|(_, _, c)| c.starts_with("WebKit")),
        "expected WebKit helpers while the window is open: {running:?}"
    );
    close_and_wait_gone(&desk, &wid);
    println!("menu click → window → closed: {:.1?}", started.elapsed());

    // (b) The add-account flow in the real window, started by WebDriver on the same desktop.
    // A wrapper gives the app's output a file of its own, apart from the driver's.
    let (wrapper, app_log) = desktop::webdriver::settings_app(&desk, "settings", &[]);
    let wd = WebDriver::start(&desk, &wrapper, &["--config", config.to_str().unwrap()]);
    assert_eq!(wd.cmd("GET", "/title", Value::Null), "Pushmail Settings");
    // No account yet: the window opens on "Add account".
    wd.wait_for(".add-account [data-action=manual]", WINDOW_TIMEOUT);
    assert_eq!(
        wd.script("return document.querySelector('.add-account h1').textContent"),
        "Add account"
    );
    let wid = wait_for_window(&desk, "the WebDriver-started window to render");

    // Add account starts from the address (discovery, tested in the lab: tests/discovery.rs);
    // this server is a loopback Dovecot, so the whole form, as "Configure manually" opens it.
    wd.click("[data-action=manual]");
    wd.wait_for("input[name=host]", SLOW);
    wd.fill("input[name=name]", "Carol at Work");
    wd.fill("input[name=email]", "carol@example.org");
    let id = wd.property("input[name=id]", "value");
    assert_eq!(id, "carol", "the id suggested from the address");
    let id = id.as_str().unwrap().to_owned();
    wd.fill("input[name=host]", "127.0.0.1");
    assert_eq!(wd.property("select[name=security]", "value"), "tls");
    wd.fill("input[name=port]", &dc.imaps_port().to_string());
    wd.fill("input[name=username]", "carol");
    wd.fill("input[name=password]", &password);
    wd.click("details.advanced > summary");
    wd.fill("input[name=ca-file]", dc.ca_file().to_str().unwrap());

    // "Test connection": every step passes, shown as it runs.
    wd.click("[data-action=test]");
    let statuses = "return [...document.querySelectorAll('[data-step]')]\
                    .map(e => e.dataset.step + '=' + e.dataset.status).join(' ')";
    let mut seen = Vec::new();
    let last = eventually(SLOW, "every test step to pass", || {
        let now = wd.script(statuses).as_str().unwrap_or_default().to_owned();
        if seen.last() != Some(&now) {
            seen.push(now.clone());
        }
        assert!(!now.contains("=failed"), "a step failed: {now}");
        (now.split(' ').all(|s| s.ends_with("=ok"))).then_some(now)
    });
    assert_eq!(
        last,
        "password=ok tcp=ok tls=ok login=ok capabilities=ok folders=ok"
    );
    // The steps arrive as events while the command runs; its report (the banner) ends it.
    let banner = wd.text(".test-panel .banner");
    // Dovecot has NOTIFY: even one folder is watched with it (new mail comes with its headers).
    assert!(
        banner.contains("NOTIFY push: INBOX"),
        "the strategy after a passing test: {banner}"
    );
    println!("test steps as seen: {seen:?}");
    // The test's throw-away keyring entry is gone again.
    assert_eq!(keyring_users(&desk), Vec::<String>::new());

    // Save → the accounts page, where the tray's live state for the new account appears.
    wd.click("[data-action=save]");
    wd.wait_for(".page-accounts", SLOW);
    let live = format!("[data-account=\"{id}\"] [data-state=push]");
    wd.wait_for(&live, SLOW);
    let html = wd.script("return document.documentElement.outerHTML");
    assert!(
        !html.as_str().unwrap().contains(&password),
        "the password came back to the page"
    );

    // The password is in the keyring, and only there.
    assert_eq!(desk.keyring_lookup(&id).as_deref(), Some(password.as_str()));
    assert_eq!(keyring_users(&desk), vec![id.clone()]);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(&password), "password in the config:\n{text}");
    let saved = Config::load(&config).unwrap();
    assert_eq!(saved.accounts.len(), 1, "{text}");
    let account = &saved.accounts[0];
    assert_eq!(account.id, id);
    assert_eq!(account.name, "Carol at Work");
    assert_eq!(account.email.as_deref(), Some("carol@example.org"));
    assert_eq!(
        (account.host.as_str(), account.port),
        ("127.0.0.1", dc.imaps_port())
    );
    assert_eq!(account.security, Security::Tls);
    assert_eq!(account.username, "carol");
    assert_eq!(account.password, PasswordSource::Keyring);
    assert_eq!(account.ca_file.as_deref(), Some(dc.ca_file()));

    // The running tray (never restarted) watches it: push over D-Bus, and mail pops up.
    let accounts = desk.py(&["call", "GetAccounts"]);
    assert_eq!(accounts[0][0], id.as_str(), "{accounts}");
    assert_eq!(accounts[0][1], "Carol at Work", "{accounts}");
    assert_eq!(accounts[0][2], "push", "{accounts}");
    dc.deliver(
        "carol",
        "INBOX",
        &message(
            "Dana Example <dana@example.com>",
            "carol@example.org",
            "Welcome to the watched account",
            "Hello",
        ),
    )
    .unwrap();
    let notify = desk.wait_message(SLOW, "the Notify call for the new mail", |m| {
        m["kind"] == "call"
            && m["member"] == "Notify"
            && m["args"][3] == "Dana Example <dana@example.com>"
    });
    assert_eq!(notify["args"][4], "Welcome to the watched account");
    assert!(
        tray.log().contains("configuration reloaded"),
        "{}",
        tray.log()
    );

    // Closing the window ends the settings process and its WebKit helpers.
    close_and_wait_gone(&desk, &wid);
    wd.quit();
    let mut tray = tray;
    assert!(
        tray.wait_exit(Duration::ZERO).is_none(),
        "the tray exited: {}",
        tray.log()
    );

    // Nothing the window or the tray printed or wrote holds the password.
    let settings_output = std::fs::read_to_string(&app_log).unwrap();
    assert!(!settings_output.contains(&password));
    assert!(!settings_output.contains("panicked"), "{settings_output}");
    let leaks = files_containing(desk.dir.path(), &password);
    assert!(leaks.is_empty(), "the password is in {leaks:?}");
    // The search does find it where it is meant to be: the mail server's own user file.
    assert!(!files_containing(dc.dir(), &password).is_empty());
    println!("whole flow: {:.1?}", started.elapsed());
}

/// Settings opened (over the tray's D-Bus service, as the menu does) and closed 20 times: no
/// settings or WebKit process remains, and the tray's resident memory has not grown.
///
/// The figures in docs/benchmarks.md are the release tray's (the settings program is the debug
/// build either way; it does not live in the tray):
///
///     cargo build --release -p pushmail
///     PUSHMAIL_TRAY=$PWD/target/release/pushmail cargo test -p pushmail-tests \
///         --test settings_e2e -- --nocapture opened_and_closed
#[test]
fn settings_opened_and_closed_20_times_leaves_nothing_and_the_tray_does_not_grow() {
    let _turn = one_window_at_a_time();
    const OPENS: usize = 20;
    /// What the tray may grow by: allocator and D-Bus buffers settle, no per-open cost.
    const BOUND_KIB: u64 = 1024;
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("work");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", Via::Tls, "alicepw", "name = \"Work\"")]);
    let mut desk = Desktop::start(Daemon::Dunst);
    let program = std::env::var_os("PUSHMAIL_TRAY")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin("pushmail"));
    let log = desk.dir.path().join("pushmail.log");
    let tray = Held::new(
        desk.command(&program)
            .arg("--config")
            .arg(pm.config())
            .env("PUSHMAIL_SETTINGS_PROGRAM", bin("pushmail-settings"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn pushmail"),
    );
    let tray_pid = tray.id();
    desk.wait_message(SLOW, "the tray item to register", |m| {
        m["kind"] == "registered"
    });
    eventually(SLOW, "the account in push", || {
        (desk.try_py(&["call", "GetAccounts"]).ok()?[0][2] == "push").then_some(())
    });

    let started = Instant::now();
    let before = vm_rss_kib(tray_pid);
    let mut after_each = Vec::new();
    let (mut opening, mut closing) = (Duration::ZERO, Duration::ZERO);
    for n in 1..=OPENS {
        let t = Instant::now();
        desk.py(&["call", "OpenSettings"]);
        let wid = wait_for_window(&desk, &format!("window {n} to render"));
        eprintln!("closing window {n} of {OPENS}");
        let shown = Instant::now();
        close_and_wait_gone(&desk, &wid);
        opening += shown - t;
        closing += shown.elapsed();
        after_each.push(vm_rss_kib(tray_pid));
    }
    let elapsed = started.elapsed();
    let after = vm_rss_kib(tray_pid);
    let left: Vec<_> = desk_processes(&desk)
        .into_iter()
        .filter(|(_, _, c)| c.starts_with("pushmail") || c.starts_with("WebKit"))
        .collect();
    let total: u64 = left.iter().map(|(pid, _, _)| vm_rss_kib(*pid)).sum();
    println!(
        "tray {}: VmRSS before {before} kB, after {OPENS} opens {after} kB ({:+} kB); \
         after each: {after_each:?}; Pushmail processes left: {left:?}, {total} kB; {OPENS} \
         opens in {elapsed:.1?} (opening {opening:.1?}, closing {closing:.1?})",
        program.display(),
        after as i64 - before as i64
    );
    assert_eq!(
        left.iter().map(|(pid, _, _)| *pid).collect::<Vec<_>>(),
        vec![tray_pid],
        "only the tray may remain"
    );
    assert!(
        after <= before + BOUND_KIB,
        "the tray grew from {before} kB to {after} kB over {OPENS} opens: {after_each:?}"
    );
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}
