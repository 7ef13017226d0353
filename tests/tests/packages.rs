//! The Debian packages, proven by installing them the way a user (and an operator) would
//! (issue 13). The desktop's two, `the_packages_install_run_start_at_login_upgrade_and_purge_cleanly`:
//!
//! 1. `scripts/package` builds `pushmail`, `pushmail-settings` (and `pushmail-relay`) from one
//!    release build; `dpkg-deb -I/-c` show the expected fields and files, no maintainer
//!    scripts, nothing in `/etc`; `pushmail`'s own `Depends` names no WebKit or GTK (the tray's
//!    memory promise);
//!    lintian reports nothing but the findings docs/packaging.md lists with their reasons.
//! 2. `apt-get install ./pushmail_….deb ./pushmail-settings_….deb` resolves the dependencies;
//!    the three installed binaries print the workspace version; `desktop-file-validate` and
//!    `appstreamcli validate --no-net` pass on what was installed.
//! 3. On a private desktop (Xvfb, D-Bus, dunst, a StatusNotifierWatcher) against a private
//!    Dovecot, the installed `/usr/bin/pushmail` shows its tray item and D-Bus service, and a
//!    delivered message pops its notification. Start at login is turned on in the installed
//!    settings window (its General page, clicked over WebDriver); the entry it writes validates
//!    and runs `/usr/bin/pushmail`. The tray quits; `dex --autostart` starts the session's
//!    autostart entries as a desktop session would, and the tray is back.
//! 4. Upgrade: the same tree built as the next patch version is installed over the running
//!    tray, which keeps announcing mail; the next start runs the new version with the same
//!    configuration and state, and re-announces nothing.
//! 5. `dpkg --purge` both: every installed file is gone and nothing is left in `/etc`. The
//!    packages are purged on failure too (a guard), so the machine is left as it was.
//!
//! The relay's, `the_relay_package_installs_runs_as_its_service_and_purges_cleanly`:
//!
//! 1. The same `scripts/package` run; `dpkg-deb -f/-c/-I`: fields (Depends computed, no libpq
//!    or OpenSSL), the binary, the web app, the unit, the sysusers file, the example config as
//!    the only file in `/etc` and the only conffile, maintainer scripts that make the user and
//!    neither enable nor start the unit; lintian's findings each listed in docs/packaging.md.
//! 2. `apt-get install ./pushmail-relay_….deb`; `--version` says the workspace version; the
//!    system user exists, the config is root:pushmail-relay 640, the unit is not enabled;
//!    `systemd-analyze verify` passes on the installed unit.
//! 3. The installed binary run as the unit runs it — its `ExecStart`, as its `User`/`Group`,
//!    its master key handed over as systemd's `LoadCredential=` would (made by `pushmail-relay
//!    gen-key`). As shipped, the config makes it refuse to start (no database). Edited as an
//!    operator would (a private PostgreSQL 15, a database password file, a free loopback port,
//!    the installed `web_dir`), it runs as that user and serves the web app's index and
//!    `/api/vapid`, `user add` run as the service user makes a token `/api/me` accepts, and
//!    SIGTERM stops it cleanly.
//! 4. `dpkg --purge`: every installed file, `/etc/pushmail-relay` (with the operator's password
//!    and secret files) and the statoverride are gone; the system user stays (Debian's practice; the test removes it afterwards if it
//!    made it). Purged on failure too.
//!
//! Root only (they install system-wide), and slow (release builds): `#[ignore]`d, and run by
//! scripts/test as its own step after the other tests (`--ignored` runs both), so their builds
//! never compete with the others' timing-sensitive work. The two never run at once (a lock):
//! they share dpkg, and each checks that nothing of its own is left in `/etc`.
//!
//!     cargo test -p pushmail-tests --test packages -- --ignored --nocapture [TEST NAME]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;
mod relay_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{Pushmail, Via, unique_id};
use desktop::webdriver::WebDriver;
use desktop::{Daemon, Desktop, Tray, eventually};
use pushmail_tests::{Dovecot, DovecotOptions, Postgres, free_port, message, wait_until};
use relay_common::{http, http_raw};
use serde_json::Value;

const SLOW: Duration = Duration::from_secs(30);
const PACKAGES: [&str; 2] = ["pushmail", "pushmail-settings"];
const RELAY: &str = "pushmail-relay";
const BINARIES: [&str; 3] = ["pushmail", "pushmail-cli", "pushmail-settings"];
const TRAY_NAME: &str = "io.github.pushmail.Pushmail";
/// Crates a tray must not pull in, as Debian package name prefixes (the web engine and the
/// toolkit, and what only they bring).
const NOT_IN_TRAY: [&str; 6] = [
    "libwebkit",
    "libjavascriptcore",
    "libgtk",
    "libgdk",
    "libsoup",
    "libayatana",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn workspace_version() -> String {
    let toml = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    let package = toml.split("[workspace.package]").nth(1).unwrap();
    let line = package.lines().find(|l| l.starts_with("version")).unwrap();
    line.split('"').nth(1).unwrap().to_owned()
}

/// The next patch version: the upgrade's.
fn bumped(version: &str) -> String {
    let mut parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap()).collect();
    *parts.last_mut().unwrap() += 1;
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Runs a command to completion; panics with its output if it fails. Returns stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn apt_get(args: &[&str]) -> Command {
    let mut cmd = Command::new("apt-get");
    cmd.env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-y", "-q", "-o", "Dpkg::Use-Pty=0"])
        .args(args);
    cmd
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// The two tests one at a time: both install through dpkg, and each asserts that nothing of its
/// own is left in `/etc` after its purge. A failed test poisons the lock; the next still runs.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Purges these packages when dropped — on success, and when the test panics half-way.
struct Purge(&'static [&'static str]);

impl Drop for Purge {
    fn drop(&mut self) {
        // What the relay test made there as an operator would (a purge keeps it), so that the
        // next run starts from a clean /etc.
        if self.0.contains(&RELAY) {
            for f in ["database.password", "example.secret"] {
                let _ = std::fs::remove_file(Path::new("/etc/pushmail-relay").join(f));
            }
        }
        let present: Vec<&str> = self
            .0
            .iter()
            .copied()
            .filter(|p| {
                Command::new("dpkg-query")
                    .args(["-W", "-f=${db:Status-Abbrev}", p])
                    .output()
                    .is_ok_and(|o| !o.stdout.is_empty() && !o.stdout.starts_with(b"un"))
            })
            .collect();
        if !present.is_empty() {
            let _ = Command::new("dpkg")
                .arg("--purge")
                .args(&present)
                .stdin(Stdio::null())
                .status();
        }
    }
}

/// What one `scripts/package` run made.
struct Debs {
    tray: PathBuf,
    settings: PathBuf,
    relay: PathBuf,
    took: Duration,
}

/// Builds the three packages as `version` (None: the workspace's); their paths and the time
/// taken. `scripts/package` prints them on its last three lines; each is found by its name.
fn package(version: Option<&str>) -> Debs {
    let start = Instant::now();
    let mut cmd = Command::new(workspace().join("scripts/package"));
    if let Some(v) = version {
        cmd.args(["--version", v]);
    }
    let out = run(cmd.stderr(Stdio::inherit()));
    let debs: Vec<PathBuf> = out.lines().rev().take(3).map(PathBuf::from).collect();
    let find = |name: &str| {
        debs.iter()
            .find(|d| {
                d.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{name}_"))
            })
            .unwrap_or_else(|| panic!("no {name} .deb in {out}"))
            .clone()
    };
    Debs {
        tray: find("pushmail"),
        settings: find("pushmail-settings"),
        relay: find(RELAY),
        took: start.elapsed(),
    }
}

/// `dpkg-deb -f` fields of a .deb.
fn fields(deb: &Path) -> BTreeMap<String, String> {
    let text = run(Command::new("dpkg-deb").arg("-f").arg(deb));
    let mut map = BTreeMap::new();
    let mut last = String::new();
    for line in text.lines() {
        if line.starts_with(' ') {
            map.entry(last.clone())
                .and_modify(|v: &mut String| v.push_str(line));
        } else if let Some((k, v)) = line.split_once(": ") {
            last = k.to_owned();
            map.insert(k.to_owned(), v.to_owned());
        }
    }
    map
}

/// The files (not directories) a .deb installs, as absolute paths.
fn files(deb: &Path) -> Vec<String> {
    run(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').to_owned())
        .collect()
}

/// Package names in a Depends-style field.
fn names(field: &str) -> Vec<String> {
    field
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn check_packages(pushmail: &Path, settings: &Path, version: &str) {
    // Fields.
    let tray = fields(pushmail);
    assert_eq!(tray["Package"], "pushmail");
    assert!(tray["Version"].starts_with(version), "{tray:?}");
    let depends = names(&tray["Depends"]);
    assert!(depends.iter().any(|d| d == "libc6"), "{depends:?}");
    for d in &depends {
        assert!(
            !NOT_IN_TRAY.iter().any(|bad| d.starts_with(bad)),
            "pushmail depends on {d} (a web engine or toolkit): {depends:?}"
        );
    }
    let recommends = names(&tray["Recommends"]);
    assert!(recommends.contains(&"pushmail-settings".to_owned()));
    assert!(recommends.contains(&"gnome-keyring".to_owned()));
    assert_eq!(tray["Suggests"], "notification-daemon");
    let gui = fields(settings);
    assert_eq!(gui["Package"], "pushmail-settings");
    let gui_depends = names(&gui["Depends"]);
    for needed in ["libwebkit2gtk-4.1-0", "libgtk-3-0", "pushmail"] {
        assert!(
            gui_depends.iter().any(|d| d == needed),
            "pushmail-settings lacks {needed} (computed by dpkg-shlibdeps): {gui_depends:?}"
        );
    }

    // Files: what each holds, nothing in /etc, no system-wide autostart.
    let tray_files = files(pushmail);
    for want in [
        "/usr/bin/pushmail",
        "/usr/bin/pushmail-cli",
        "/usr/share/applications/io.github.pushmail.Pushmail.desktop",
        "/usr/share/metainfo/io.github.pushmail.Pushmail.metainfo.xml",
        "/usr/share/icons/hicolor/scalable/apps/io.github.pushmail.Pushmail.svg",
        "/usr/share/icons/hicolor/48x48/apps/io.github.pushmail.Pushmail.png",
        "/usr/share/man/man1/pushmail.1.gz",
        "/usr/share/man/man1/pushmail-cli.1.gz",
        "/usr/share/man/man1/pushmail-cli-forget-everything.1.gz",
        "/usr/share/doc/pushmail/copyright",
        "/usr/share/doc/pushmail/README.md",
    ] {
        assert!(
            tray_files.iter().any(|f| f == want),
            "{want} missing: {tray_files:#?}"
        );
    }
    assert!(!tray_files.iter().any(|f| f.ends_with("pushmail-settings")));
    let gui_files = files(settings);
    for want in [
        "/usr/bin/pushmail-settings",
        "/usr/share/applications/io.github.pushmail.Settings.desktop",
        "/usr/share/man/man1/pushmail-settings.1.gz",
        "/usr/share/doc/pushmail-settings/copyright",
    ] {
        assert!(
            gui_files.iter().any(|f| f == want),
            "{want} missing: {gui_files:#?}"
        );
    }
    for f in tray_files.iter().chain(&gui_files) {
        assert!(!f.starts_with("/etc/"), "{f}: nothing goes in /etc");
        assert!(!f.contains("autostart"), "{f}: no system-wide autostart");
    }

    // No maintainer scripts: the control archive holds control and md5sums only.
    for deb in [pushmail, settings] {
        let info = run(Command::new("dpkg-deb").arg("-I").arg(deb));
        for script in [
            "preinst",
            "postinst",
            "prerm",
            "postrm",
            "config",
            "conffiles",
        ] {
            assert!(
                !info
                    .lines()
                    .any(|l| l.split_whitespace().nth(4) == Some(script)),
                "{} has a {script}:\n{info}",
                deb.display()
            );
        }
    }
}

/// Lintian's findings on these packages, as `tag` strings; each must be one docs/packaging.md
/// lists with its reason.
fn check_lintian(debs: &[&Path]) {
    let out = Command::new("lintian")
        .args(["--no-tag-display-limit", "--display-info"])
        .args(debs)
        .output()
        .expect("lintian (scripts/setup --test installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("lintian:\n{text}");
    let docs = std::fs::read_to_string(workspace().join("docs/packaging.md")).unwrap();
    let mut unexplained = Vec::new();
    for line in text.lines() {
        // "W: pushmail: tag-name extra…"
        let mut parts = line.split_whitespace();
        let (Some(kind), Some(_), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if !matches!(kind, "E:" | "W:" | "I:") {
            continue;
        }
        if !docs.contains(&format!("`{tag}`")) {
            unexplained.push(line.to_owned());
        }
    }
    assert!(
        unexplained.is_empty(),
        "lintian findings not fixed and not listed in docs/packaging.md:\n{}",
        unexplained.join("\n")
    );
}

fn check_installed(version: &str) {
    for b in BINARIES {
        let said = run(Command::new(format!("/usr/bin/{b}")).arg("--version"));
        assert_eq!(said.trim(), format!("{b} {version}"));
    }
    run(Command::new("desktop-file-validate").args([
        "/usr/share/applications/io.github.pushmail.Pushmail.desktop",
        "/usr/share/applications/io.github.pushmail.Settings.desktop",
    ]));
    run(Command::new("appstreamcli").args([
        "validate",
        "--no-net",
        "/usr/share/metainfo/io.github.pushmail.Pushmail.metainfo.xml",
    ]));
}

/// Installed files of the packages (`dpkg -L`), files only.
fn installed_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in PACKAGES {
        for line in run(Command::new("dpkg").args(["-L", p])).lines() {
            let path = PathBuf::from(line);
            if path.is_file() {
                out.push(path);
            }
        }
    }
    out
}

/// Waits until the tray owns its name and its item is registered; its pid.
fn wait_tray(desk: &mut Desktop, what: &str) -> u32 {
    let pid = eventually(SLOW, what, || desk.owner_pid(TRAY_NAME));
    eventually(SLOW, "the tray item", || {
        desk.try_py(&["item"])
            .ok()
            .filter(|v| v["title"].is_string())
    });
    eventually(SLOW, "the account watching (push)", || {
        let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
        (accounts[0][2] == "push").then_some(())
    });
    pid
}

fn wait_notify(desk: &mut Desktop, subject: &str) -> Value {
    desk.wait_message(SLOW, &format!("a Notify for {subject}"), |m| {
        m["kind"] == "call"
            && m["member"] == "Notify"
            && m["args"][4].as_str().is_some_and(|b| b.contains(subject))
    })
}

fn notifies_about(desk: &Desktop, subject: &str) -> usize {
    desk.notify_calls("Notify")
        .iter()
        .filter(|m| m["args"][4].as_str().is_some_and(|b| b.contains(subject)))
        .count()
}

fn kill(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

fn gone(pid: u32) -> bool {
    // A zombie (reaped later by whoever started it) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) == Some("Z"))
        .unwrap_or(true)
}

/// Kills a tray started outside a `Tray` guard (by dex) when dropped.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            kill(pid);
        }
    }
}

#[test]
#[ignore = "root only, builds release packages and installs them: scripts/test runs it as its own step"]
fn the_packages_install_run_start_at_login_upgrade_and_purge_cleanly() {
    assert_eq!(
        unsafe_free_uid(),
        0,
        "the package test installs system-wide: run it as root (scripts/test does)"
    );
    let _serial = serial();
    for p in PACKAGES {
        assert!(!installed(p), "{p} is already installed; purge it first");
    }
    let _purge = Purge(&PACKAGES);
    let version = workspace_version();

    // 1. Build and inspect.
    let Debs {
        tray: tray_deb,
        settings: settings_deb,
        took,
        ..
    } = package(None);
    eprintln!("scripts/package {version}: {took:?}");
    check_packages(&tray_deb, &settings_deb, &version);
    check_lintian(&[&tray_deb, &settings_deb]);

    // 2. Install as a user would, with dependency resolution.
    run(apt_get(&["install"]).arg(&tray_deb).arg(&settings_deb));
    check_installed(&version);
    let files_v1 = installed_files();

    // 3. The installed tray on a private desktop, configured where a user's config lives.
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let mut desk = Desktop::start(Daemon::Dunst);
    let id = unique_id("pkg");
    let config = desk.dir.path().join("config/pushmail/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        pm.account_toml(&dc, &id, "alice", Via::Tls, "alicepw", "name = \"Work\""),
    )
    .unwrap();
    let state = desk.dir.path().join("state/pushmail/state.sqlite3");

    let mut tray = Tray::start_program(&desk, Path::new("/usr/bin/pushmail"), &[], &[]);
    let pid = wait_tray(&mut desk, "the installed tray's D-Bus service");
    assert_eq!(pid, tray.pid());
    dc.deliver(
        "alice",
        "INBOX",
        &message(
            "Ana <ana@example.com>",
            "alice@example.org",
            "Installed hello",
            "x",
        ),
    )
    .unwrap();
    let notify = wait_notify(&mut desk, "Installed hello");
    assert_eq!(notify["args"][6]["desktop-entry"], TRAY_NAME, "{notify}");

    // Start at login, through the installed settings window.
    let autostart = desk
        .dir
        .path()
        .join("config/autostart/io.github.pushmail.Pushmail.desktop");
    assert!(!autostart.exists());
    {
        let driver = WebDriver::start(&desk, Path::new("/usr/bin/pushmail-settings"), &[]);
        driver.click("button[data-page=general]");
        let toggle = "input[name=autostart]";
        driver.wait_for(toggle, SLOW);
        assert_eq!(driver.property(toggle, "checked"), Value::Bool(false));
        driver.click(toggle);
        eventually(SLOW, "the autostart entry written", || {
            autostart.exists().then_some(())
        });
        assert_eq!(driver.property(toggle, "checked"), Value::Bool(true));
        driver.quit();
    }
    run(Command::new("desktop-file-validate").arg(&autostart));
    let entry = std::fs::read_to_string(&autostart).unwrap();
    assert!(entry.contains("\nExec=/usr/bin/pushmail\n"), "{entry}");

    // Quit, then start the session's autostart entries as a desktop session does.
    desk.py(&["call", "Quit"]);
    assert!(tray.wait_exit(SLOW).is_some(), "the tray did not quit");
    eventually(SLOW, "the tray's name released", || {
        desk.owner_pid(TRAY_NAME).is_none().then_some(())
    });
    let empty_dirs = desk.dir.path().join("no-system-autostart");
    std::fs::create_dir_all(&empty_dirs).unwrap();
    let dex_log = desk.dir.path().join("dex.log");
    let status = desk
        .command("dex")
        .args(["--autostart", "--environment", "GNOME"])
        // Only this user's entries: not the machine's /etc/xdg/autostart.
        .env("XDG_CONFIG_DIRS", &empty_dirs)
        .stdout(std::fs::File::create(&dex_log).unwrap())
        .stderr(std::fs::File::create(desk.dir.path().join("dex.err")).unwrap())
        .status()
        .expect("dex (scripts/setup --test installs it)");
    assert!(status.success());
    let mut autostarted = KillOnDrop(None);
    let pid = wait_tray(&mut desk, "the tray back from its autostart entry");
    autostarted.0 = Some(pid);
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
        Path::new("/usr/bin/pushmail")
    );

    // 4. Upgrade under the running tray.
    let next = bumped(&version);
    let Debs {
        tray: tray_deb2,
        settings: settings_deb2,
        took: took2,
        ..
    } = package(Some(&next));
    eprintln!("scripts/package {next} (second release build): {took2:?}");
    check_packages(&tray_deb2, &settings_deb2, &next);
    run(apt_get(&["install"]).arg(&tray_deb2).arg(&settings_deb2));
    check_installed(&next);
    assert!(!gone(pid), "the upgrade stopped the running tray");
    dc.deliver(
        "alice",
        "INBOX",
        &message(
            "Bo <bo@example.com>",
            "alice@example.org",
            "During upgrade",
            "x",
        ),
    )
    .unwrap();
    wait_notify(&mut desk, "During upgrade");
    let config_before = std::fs::read_to_string(&config).unwrap();
    assert!(state.exists());

    desk.py(&["call", "Quit"]);
    eventually(SLOW, "the old tray gone", || gone(pid).then_some(()));
    autostarted.0 = None;
    let mut tray = Tray::start_program(&desk, Path::new("/usr/bin/pushmail"), &[], &[]);
    wait_tray(&mut desk, "the upgraded tray");
    let exe = std::fs::read_link(format!("/proc/{}/exe", tray.pid())).unwrap();
    assert_eq!(exe, Path::new("/usr/bin/pushmail"));
    let said = run(Command::new(&exe).arg("--version"));
    assert_eq!(said.trim(), format!("pushmail {next}"));
    eventually(SLOW, "the new start to log its version", || {
        tray.log()
            .contains(&format!("Pushmail {next}"))
            .then_some(())
    });
    // Same configuration, same state: nothing announced twice.
    desk.collect_for(Duration::from_secs(3));
    assert_eq!(notifies_about(&desk, "Installed hello"), 1);
    assert_eq!(notifies_about(&desk, "During upgrade"), 1);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), config_before);
    dc.deliver(
        "alice",
        "INBOX",
        &message(
            "Cy <cy@example.com>",
            "alice@example.org",
            "After upgrade",
            "x",
        ),
    )
    .unwrap();
    wait_notify(&mut desk, "After upgrade");
    desk.py(&["call", "Quit"]);
    assert!(tray.wait_exit(SLOW).is_some());

    // 5. Purge: every installed file gone, nothing in /etc.
    let files_v2 = installed_files();
    assert!(!files_v2.is_empty());
    run(Command::new("dpkg").args(["--purge", "pushmail-settings", "pushmail"]));
    for f in files_v1.iter().chain(&files_v2) {
        assert!(!f.exists(), "{} is still there after purge", f.display());
    }
    let in_etc = run(Command::new("find").args(["/etc", "-name", "*pushmail*"]));
    assert!(in_etc.trim().is_empty(), "left in /etc: {in_etc}");
    // Per-user data stays (Debian policy): forget-everything is for that.
    assert!(config.exists() && autostart.exists());
}

/// The real user id (root installs).
fn unsafe_free_uid() -> u32 {
    let out = run(Command::new("id").arg("-u"));
    out.trim().parse().unwrap()
}

// ---- The relay's package ----------------------------------------------------------------

const RELAY_CONFIG: &str = "/etc/pushmail-relay/relay.toml";
const RELAY_UNIT: &str = "/usr/lib/systemd/system/pushmail-relay.service";
const RELAY_WEB: &str = "/usr/share/pushmail-relay/web";

fn check_relay_package(deb: &Path, version: &str) {
    let f = fields(deb);
    assert_eq!(f["Package"], RELAY);
    assert!(f["Version"].starts_with(version), "{f:?}");
    assert_eq!(f["Section"], "mail");
    let depends = names(&f["Depends"]);
    // Computed by dpkg-shlibdeps, so the computation ran; the user is made by systemd-sysusers.
    for needed in ["libc6", "systemd", "ca-certificates"] {
        assert!(depends.iter().any(|d| d == needed), "{depends:?}");
    }
    // Pure-Rust PostgreSQL and TLS: no libpq, no OpenSSL.
    for d in &depends {
        assert!(
            !d.starts_with("libpq") && !d.starts_with("libssl"),
            "pushmail-relay depends on {d}: {depends:?}"
        );
    }
    assert_eq!(f["Suggests"], "postgresql");

    let listing = run(Command::new("dpkg-deb").arg("-c").arg(deb));
    let files = files(deb);
    for want in [
        "/usr/bin/pushmail-relay",
        "/usr/share/man/man1/pushmail-relay.1.gz",
        RELAY_UNIT,
        "/usr/lib/sysusers.d/pushmail-relay.conf",
        RELAY_CONFIG,
        "/usr/share/pushmail-relay/web/relay.html",
        "/usr/share/pushmail-relay/web/relay-sw.js",
        "/usr/share/pushmail-relay/web/relay.webmanifest",
        "/usr/share/doc/pushmail-relay/copyright",
        "/usr/share/doc/pushmail-relay/relay.md",
        "/usr/share/doc/pushmail-relay/changelog.Debian.gz",
    ] {
        assert!(
            files.iter().any(|f| f == want),
            "{want} missing: {files:#?}"
        );
    }
    // The app's script and styles, below the web directory as vite laid them out.
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("/usr/share/pushmail-relay/web/assets/") && f.ends_with(".js")),
        "{files:#?}"
    );
    // Nothing else in /etc: no master key, no enablement symlink.
    let in_etc: Vec<&String> = files.iter().filter(|f| f.starts_with("/etc/")).collect();
    assert_eq!(in_etc, [RELAY_CONFIG], "{files:#?}");
    // The config as shipped holds no secret: 644 in the archive (lintian's standard mode); the
    // postinst's statoverride makes it 640 root:pushmail-relay (checked once installed).
    let config_line = listing
        .lines()
        .find(|l| l.ends_with(&format!(".{RELAY_CONFIG}")))
        .unwrap();
    assert!(config_line.starts_with("-rw-r--r-- 0/0"), "{config_line}");

    // Control: the config is the only conffile; the maintainer scripts create the user and set
    // the config's group, and neither enable nor start the unit.
    let info = run(Command::new("dpkg-deb").arg("-I").arg(deb));
    let conffiles = control_file(deb, "conffiles");
    assert_eq!(conffiles.trim(), RELAY_CONFIG, "{info}");
    let postinst = control_file(deb, "postinst");
    assert!(
        postinst.contains("systemd-sysusers") && postinst.contains("pushmail-relay.conf"),
        "{postinst}"
    );
    assert!(postinst.contains("dpkg-statoverride"), "{postinst}");
    // debhelper's --no-enable snippet, and try-restart (only if running) on upgrade.
    assert!(
        postinst.contains("deb-systemd-helper debian-installed"),
        "{postinst}"
    );
    assert!(postinst.contains("try-restart"), "{postinst}");
    for never in ["deb-systemd-invoke start", "was-enabled defaults to true"] {
        assert!(
            !postinst.contains(never),
            "the postinst has `{never}`:\n{postinst}"
        );
    }
    let postrm = control_file(deb, "postrm");
    assert!(postrm.contains("deb-systemd-helper purge"), "{postrm}");
    assert!(postrm.contains("dpkg-statoverride --remove"), "{postrm}");
}

/// One file of a .deb's control archive (empty when it has none).
fn control_file(deb: &Path, name: &str) -> String {
    let out = Command::new("dpkg-deb")
        .arg("-I")
        .arg(deb)
        .arg(name)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `Key=` values of a systemd unit file, in order.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// `getent DATABASE NAME`: its fields, or None.
fn getent(database: &str, name: &str) -> Option<Vec<String>> {
    let out = Command::new("getent")
        .args([database, name])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .split(':')
            .map(str::to_owned)
            .collect()
    })
}

/// Removes the relay's system user and group when dropped, if the test made them: the package
/// keeps them on purge (as Debian does), the test leaves the machine as it found it.
struct RemoveUser(bool);

impl Drop for RemoveUser {
    fn drop(&mut self) {
        if self.0 && !installed(RELAY) && getent("passwd", RELAY).is_some() {
            let _ = Command::new("userdel").arg(RELAY).status();
            if getent("group", RELAY).is_some() {
                let _ = Command::new("groupdel").arg(RELAY).status();
            }
        }
    }
}

/// The relay process the test started as the service would run; SIGKILLed if still running
/// when dropped (a failed test).
struct Service(Option<Child>);

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `setpriv` to the unit's user and group with a clean environment, as systemd runs a
/// service's command (no shell, no inherited variables, working directory `/`).
fn as_service(user: &str, group: &str, argv: &[&str]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={user}"),
        &format!("--regid={group}"),
        "--init-groups",
        "--",
    ])
    .args(argv)
    .env_clear()
    .env(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    .env("LANG", "C.UTF-8")
    .current_dir("/");
    cmd
}

/// Replaces the one line of `text` that starts with `prefix`; panics when there is none.
fn set_line(text: &str, prefix: &str, line: &str) -> String {
    let mut found = 0;
    let out: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.starts_with(prefix) {
                found += 1;
                line
            } else {
                l
            }
        })
        .collect();
    assert_eq!(
        found, 1,
        "no single line starting with `{prefix}` in:\n{text}"
    );
    out.join("\n") + "\n"
}

#[test]
#[ignore = "root only, builds release packages and installs them: scripts/test runs it as its own step"]
fn the_relay_package_installs_runs_as_its_service_and_purges_cleanly() {
    assert_eq!(
        unsafe_free_uid(),
        0,
        "the package test installs system-wide: run it as root (scripts/test does)"
    );
    let _serial = serial();
    assert!(
        !installed(RELAY),
        "{RELAY} is already installed; purge it first"
    );
    assert!(
        !Path::new("/etc/pushmail-relay").exists(),
        "/etc/pushmail-relay exists (an earlier install?): it would hide what a purge leaves"
    );
    let _remove_user = RemoveUser(getent("passwd", RELAY).is_none());
    let _purge = Purge(&[RELAY]);
    let version = workspace_version();

    // 1. Build (the same scripts/package run as the desktop's packages) and inspect.
    let debs = package(None);
    eprintln!("scripts/package {version}: {:?}", debs.took);
    check_relay_package(&debs.relay, &version);
    check_lintian(&[&debs.relay]);

    // 2. Install as an operator would, with dependency resolution.
    let start = Instant::now();
    run(apt_get(&["install"]).arg(&debs.relay));
    let said = run(Command::new("/usr/bin/pushmail-relay").arg("--version"));
    assert_eq!(said.trim(), format!("pushmail-relay {version}"));
    let installed_files: Vec<PathBuf> = run(Command::new("dpkg").args(["-L", RELAY]))
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    assert!(installed_files.contains(&PathBuf::from(RELAY_CONFIG)));

    // The system user: a system account without a login shell, and its group.
    let user = getent("passwd", RELAY).expect("the postinst made the system user");
    let uid: u32 = user[2].parse().unwrap();
    assert!(uid < 1000, "not a system user: {user:?}");
    assert_eq!(user[6], "/usr/sbin/nologin", "{user:?}");
    let group = getent("group", RELAY).expect("and its group");
    // The config: root:pushmail-relay 640, through a statoverride dpkg keeps applying.
    let stat = run(Command::new("stat").args(["-c", "%U:%G %a", RELAY_CONFIG]));
    assert_eq!(stat.trim(), format!("root:{RELAY} 640"));
    let overrides = run(Command::new("dpkg-statoverride").args(["--list", RELAY_CONFIG]));
    assert_eq!(overrides.trim(), format!("root {RELAY} 640 {RELAY_CONFIG}"));
    let conffiles = run(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", RELAY]));
    assert!(conffiles.contains(RELAY_CONFIG), "{conffiles}");

    // The unit: installed, not enabled (the operator enables it after writing the config).
    let unit = std::fs::read_to_string(RELAY_UNIT).unwrap();
    assert!(
        !Path::new("/etc/systemd/system/multi-user.target.wants/pushmail-relay.service").exists(),
        "the package enabled the unit"
    );
    // `systemd-analyze verify` loads the unit offline (no running systemd needed): its syntax,
    // its ExecStart binary, its User. Debian 12 has it with systemd; say so when it is missing.
    match Command::new("systemd-analyze")
        .args(["verify", RELAY_UNIT])
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!(
                "systemd-analyze verify {RELAY_UNIT}: {}\n{text}",
                out.status
            );
            assert!(
                out.status.success(),
                "systemd-analyze verify failed:\n{text}"
            );
            // Warnings about this unit (not about the host's other units) count as failures.
            let ours: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("pushmail-relay"))
                .collect();
            assert!(ours.is_empty(), "systemd-analyze verify:\n{text}");
        }
        Err(e) => eprintln!("systemd-analyze is not installed ({e}): the unit was not verified"),
    }

    // 3. Run the installed relay as its unit would.
    let exec = unit_values(&unit, "ExecStart");
    assert_eq!(exec.len(), 1, "{unit}");
    let argv: Vec<&str> = exec[0].split_whitespace().collect();
    assert_eq!(
        argv,
        ["/usr/bin/pushmail-relay", "serve", "--config", RELAY_CONFIG]
    );
    assert_eq!(unit_values(&unit, "User"), [RELAY]);
    assert_eq!(unit_values(&unit, "Group"), [RELAY]);
    assert!(unit_values(&unit, "DynamicUser").is_empty(), "{unit}");
    let credential = unit_values(&unit, "LoadCredential");
    assert_eq!(credential.len(), 1, "{unit}");
    let (credential_id, key_source) = credential[0].split_once(':').unwrap();
    assert_eq!(credential_id, "master.key");
    assert!(
        !Path::new(key_source).exists(),
        "{key_source}: the package must not make the master key"
    );

    // A private PostgreSQL 15 with the role and database docs/relay.md has the operator make.
    let pg = Postgres::start().unwrap();
    pg.psql("postgres", &format!("CREATE ROLE \"{RELAY}\" LOGIN"))
        .unwrap();
    pg.psql(
        "postgres",
        &format!("CREATE DATABASE \"{RELAY}\" OWNER \"{RELAY}\""),
    )
    .unwrap();

    // The master key from `pushmail-relay gen-key` (as root, as the operator would), handed
    // over the way LoadCredential= does: a directory only the service's user can read, holding
    // the key as a read-only file named by the credential's id; $CREDENTIALS_DIRECTORY names it.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("pushmail-relay.master.key");
    run(Command::new("/usr/bin/pushmail-relay")
        .arg("gen-key")
        .arg(&key));
    let key_mode = run(Command::new("stat").args(["-c", "%a"]).arg(&key));
    assert_eq!(key_mode.trim(), "600");
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::copy(&key, credentials.join(credential_id)).unwrap();
    run(Command::new("chown")
        .arg("-R")
        .arg(format!("{RELAY}:{RELAY}"))
        .arg(dir.path()));
    run(Command::new("chmod")
        .arg("0400")
        .arg(credentials.join(credential_id)));
    run(Command::new("chmod").arg("0500").arg(&credentials));

    // As shipped, the config names no database: the relay refuses to start and says why (so a
    // service enabled too early fails loudly instead of running half-configured).
    let out = as_service(RELAY, RELAY, &argv)
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("missing field `database`"),
        "the relay with the shipped config: {}\n{said}",
        out.status
    );

    // The installed config, edited as the operator would: the database, the contact, a free
    // loopback port; web_dir is already the installed web app.
    let port = free_port();
    let shipped = std::fs::read_to_string(RELAY_CONFIG).unwrap();
    assert!(
        shipped
            .lines()
            .any(|l| l == format!("web_dir = \"{RELAY_WEB}\"")),
        "{shipped}"
    );
    let mut config = set_line(
        &shipped,
        "#database = ",
        &format!(
            "database = \"host=127.0.0.1 port={} dbname={RELAY} user={RELAY}\"",
            pg.port()
        ),
    );
    config = set_line(
        &config,
        "#vapid_subject = ",
        "vapid_subject = \"mailto:postmaster@example.org\"",
    );
    config = set_line(
        &config,
        "listen = ",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    // A database password file made as docs/relay.md says (640, group pushmail-relay): the
    // private database trusts loopback and never asks for it, but the relay reads the file at
    // start, so the service's user must be able to — and the purge must remove it. Likewise a
    // sign-in provider's client secret.
    let password_file = "/etc/pushmail-relay/database.password";
    for file in [password_file, "/etc/pushmail-relay/example.secret"] {
        run(Command::new("install").args(["-m", "640", "-g", RELAY, "/dev/null", file]));
        std::fs::write(file, "not-asked-for-by-a-trusting-server\n").unwrap();
    }
    config = set_line(
        &config,
        "#database_password_file = ",
        &format!("database_password_file = \"{password_file}\""),
    );
    std::fs::write(RELAY_CONFIG, config).unwrap();
    let stat = run(Command::new("stat").args(["-c", "%U:%G %a", RELAY_CONFIG]));
    assert_eq!(
        stat.trim(),
        format!("root:{RELAY} 640"),
        "the edit kept the mode"
    );

    let log_path = dir.path().join("relay.log");
    let mut serve = as_service(RELAY, RELAY, &argv);
    serve
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mut service = Service(Some(serve.spawn().unwrap()));
    let pid = service.0.as_ref().unwrap().id();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let up = wait_until(SLOW, || {
        Ok(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
    })
    .unwrap();
    assert!(up, "the installed relay did not start:\n{}", log());
    // setpriv exec()s the relay: this pid is the relay, running as the unit's user and group.
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
        Path::new("/usr/bin/pushmail-relay")
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let ids = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    assert_eq!(ids("Uid:"), uid.to_string(), "{status}");
    assert_eq!(ids("Gid:"), group[2], "{status}");

    // The web app's index, from the installed files, under the relay's CSP.
    let (code, headers, body) = http_raw(port, "GET", "/", None, None);
    assert_eq!(code, 200, "GET /: {body}\n{}", log());
    let index = std::fs::read_to_string(format!("{RELAY_WEB}/relay.html")).unwrap();
    assert_eq!(body, index, "GET / is not the installed relay.html");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-security-policy" && v.contains("default-src 'self'")),
        "{headers:?}"
    );
    let (code, _, sw) = http_raw(port, "GET", "/relay-sw.js", None, None);
    assert_eq!(code, 200);
    assert_eq!(
        sw,
        std::fs::read_to_string(format!("{RELAY_WEB}/relay-sw.js")).unwrap()
    );
    // The VAPID public key (made by this first process, sealed with the master key).
    let (code, vapid) = http(port, "GET", "/api/vapid", None, None);
    assert_eq!(code, 200, "{vapid}\n{}", log());
    let public_key = vapid["public_key"].as_str().unwrap_or_default();
    // An uncompressed P-256 point, base64url without padding: 65 bytes → 87 characters.
    assert_eq!(public_key.len(), 87, "{vapid}");

    // The operator's next step, run as the service's user (peer authentication in production):
    // `user add` reads the same group-readable config; its token works.
    let out = as_service(
        RELAY,
        RELAY,
        &[
            "/usr/bin/pushmail-relay",
            "user",
            "add",
            "Ana Lima",
            "--config",
            RELAY_CONFIG,
        ],
    )
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (code, me) = http(port, "GET", "/api/me", Some(&token), None);
    assert_eq!(code, 200, "{me}");
    assert_eq!(me["name"], "Ana Lima", "{me}");

    // SIGTERM, as `systemctl stop` sends (KillSignal=SIGTERM): a clean exit well within
    // TimeoutStopSec.
    let stop_within = Duration::from_secs(unit_values(&unit, "TimeoutStopSec")[0].parse().unwrap());
    run(Command::new("kill").args(["-TERM", &pid.to_string()]));
    let stopped = Instant::now();
    let mut child = service.0.take().unwrap();
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > stop_within {
            let _ = child.kill();
            panic!("the relay did not stop within {stop_within:?}:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "the relay exited {exit}:\n{}", log());
    eprintln!(
        "relay stopped in {:?}; installed, run and stopped in {:?}",
        stopped.elapsed(),
        start.elapsed()
    );
    let text = log();
    assert!(text.contains("stopping"), "{text}");
    assert!(!text.contains(&token), "the log holds the token:\n{text}");
    drop(pg);

    // 4. Purge: every installed file and the statoverride gone; the files the operator made
    //    in /etc/pushmail-relay (theirs, not the package's) are all that is left there.
    run(Command::new("dpkg").args(["--purge", RELAY]));
    for f in &installed_files {
        assert!(!f.exists(), "{} is still there after purge", f.display());
    }
    let mut left: Vec<String> = std::fs::read_dir("/etc/pushmail-relay")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    left.sort();
    assert_eq!(
        left,
        ["database.password", "example.secret"],
        "purge must remove the package's files and keep the operator's"
    );
    std::fs::remove_dir_all("/etc/pushmail-relay").unwrap();
    let in_etc = run(Command::new("find").args(["/etc", "-name", "*pushmail*"]));
    assert!(in_etc.trim().is_empty(), "left in /etc: {in_etc}");
    let systemd_state = run(Command::new("find").args(["/var/lib/systemd", "-name", "*pushmail*"]));
    assert!(systemd_state.trim().is_empty(), "left: {systemd_state}");
    assert!(
        !Command::new("dpkg-statoverride")
            .args(["--list", RELAY_CONFIG])
            .status()
            .unwrap()
            .success(),
        "the statoverride is left"
    );
    // The system user stays, as Debian does (docs/packaging.md); RemoveUser cleans up after
    // the test.
    assert!(
        getent("passwd", RELAY).is_some(),
        "purge removed the system user"
    );
}
