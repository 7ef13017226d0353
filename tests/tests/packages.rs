//! The Debian packages, proven by installing them the way a user would (issue 13):
//!
//! 1. `scripts/package` builds `pushmail` and `pushmail-settings` from one release build;
//!    `dpkg-deb -I/-c` show the expected fields and files, no maintainer scripts, nothing in
//!    `/etc`; `pushmail`'s own `Depends` names no WebKit or GTK (the tray's memory promise);
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
//! Root only (it installs system-wide), and slow (two release builds): `#[ignore]`d, and run by
//! scripts/test as its own step after the other tests, so its builds never compete with their
//! timing-sensitive work.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Pushmail, Via, unique_id};
use desktop::webdriver::WebDriver;
use desktop::{Daemon, Desktop, Tray, eventually};
use pushmail_tests::{Dovecot, DovecotOptions, message};
use serde_json::Value;

const SLOW: Duration = Duration::from_secs(30);
const PACKAGES: [&str; 2] = ["pushmail", "pushmail-settings"];
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

/// Purges both packages when dropped — on success, and when the test panics half-way.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let present: Vec<&str> = PACKAGES
            .into_iter()
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

/// Builds both packages as `version` (None: the workspace's); their paths and the time taken.
fn package(version: Option<&str>) -> (PathBuf, PathBuf, Duration) {
    let start = Instant::now();
    let mut cmd = Command::new(workspace().join("scripts/package"));
    if let Some(v) = version {
        cmd.args(["--version", v]);
    }
    let out = run(cmd.stderr(Stdio::inherit()));
    let debs: Vec<PathBuf> = out.lines().rev().take(2).map(PathBuf::from).collect();
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
    (find("pushmail"), find("pushmail-settings"), start.elapsed())
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

/// Lintian's findings on both packages, as `tag` strings; each must be one docs/packaging.md
/// lists with its reason.
fn check_lintian(pushmail: &Path, settings: &Path) {
    let out = Command::new("lintian")
        .args(["--no-tag-display-limit", "--display-info"])
        .arg(pushmail)
        .arg(settings)
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
    for p in PACKAGES {
        assert!(!installed(p), "{p} is already installed; purge it first");
    }
    let _purge = Purge;
    let version = workspace_version();

    // 1. Build and inspect.
    let (tray_deb, settings_deb, took) = package(None);
    eprintln!("scripts/package {version}: {took:?}");
    check_packages(&tray_deb, &settings_deb, &version);
    check_lintian(&tray_deb, &settings_deb);

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
    let (tray_deb2, settings_deb2, took2) = package(Some(&next));
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
