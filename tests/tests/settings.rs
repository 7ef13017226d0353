//! `pushmail-settings`, the real Tauri binary, on a virtual display: it starts, shows its
//! window with the UI rendered, exits when the window is closed the way a window manager
//! closes it (`WM_DELETE_WINDOW`), and leaves no settings or WebKit process behind. A second
//! start while the window is open brings that window forward instead of opening another.
//!
//! Each test has its own Xvfb (`-displayfd`, so displays never collide) and its own D-Bus
//! session daemon, so the tests run in parallel with each other and with the rest of the
//! suite (the settings window owns a well-known name on its bus). Every process the test
//! starts carries a marker in its environment, which WebKit's helper processes inherit; that
//! is how "nothing remains" is checked without guessing by process name.
//!
//! Needs: Xvfb, dbus-daemon, xwininfo (x11-utils), import (imagemagick) and python3-xlib
//! (Debian's /usr/bin/python3) to send the close request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod x11;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pushmail_tests::{bin, wait_until};
use x11::{PAGE_RGB, SIDEBAR_RGB, TITLE, has_color, parse_ppm};

/// The first WebKit start on a loaded 2-core machine takes several seconds; later ones ~1 s.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(90);
/// From the close request to the process being gone: WebKit tears down in well under a second.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
/// A private X server on a free display, stopped on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        // -displayfd N: Xvfb picks a free display and writes its number to fd N (stdout here).
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is missing: apt-get install xvfb");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the display number from Xvfb");
        let number = line.trim();
        assert!(
            !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()),
            "Xvfb printed {line:?} instead of a display number"
        );
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display);
        cmd
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private D-Bus session daemon, stopped on drop.
struct Bus {
    child: Child,
    address: String,
}

impl Bus {
    fn start(marker: &str) -> Bus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .env("PUSHMAIL_TEST_MARK", marker)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is missing: apt-get install dbus");
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .expect("read the bus address");
        Bus {
            child,
            address: address.trim().to_owned(),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One test's desktop: display, bus, scratch directories, and the marker its processes carry.
struct Desk {
    x: Xvfb,
    bus: Bus,
    dir: tempfile::TempDir,
    marker: String,
}

impl Desk {
    fn new(name: &str) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let marker = format!("{name}-{}-{}", std::process::id(), dir.path().display());
        let runtime = dir.path().join("runtime");
        fs::create_dir_all(&runtime).unwrap();
        fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Desk {
            x: Xvfb::start(),
            bus: Bus::start(&marker),
            dir,
            marker,
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config/pushmail/config.toml")
    }

    /// Starts `pushmail-settings --config …` on this desktop. Its output goes to a log file
    /// (a pipe nobody drains could block it).
    fn settings(&self, log: &str) -> Child {
        let log = fs::File::create(self.dir.path().join(log)).unwrap();
        self.x
            .command(bin("pushmail-settings").to_str().unwrap())
            .arg("--config")
            .arg(self.config())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .env("XDG_RUNTIME_DIR", self.dir.path().join("runtime"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("PUSHMAIL_TEST_MARK", &self.marker)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start pushmail-settings")
    }

    fn log(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    fn windows(&self) -> Vec<(String, u32, u32)> {
        x11::windows(&self.x.display, TITLE)
    }

    fn is_viewable(&self, id: &str) -> bool {
        x11::is_viewable(&self.x.display, id)
    }

    fn capture(&self, id: &str) -> Option<(usize, usize, Vec<u8>)> {
        x11::capture(&self.x.display, id)
    }

    /// Saves the window as a PNG next to the test's logs (for looking at a failure).
    fn screenshot(&self, id: &str, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        x11::screenshot(&self.x.display, id, &path);
        path
    }

    fn close(&self, id: &str) {
        x11::close(&self.x.display, id);
    }

    /// Live (not zombie) processes carrying this desk's marker, as `(pid, comm)`.
    fn marked_processes(&self) -> Vec<(u32, String)> {
        let needle = format!("PUSHMAIL_TEST_MARK={}", self.marker);
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|e| {
                let e = e.ok()?;
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                let environ = fs::read(e.path().join("environ")).ok()?;
                let marked = environ
                    .split(|b| *b == 0)
                    .any(|var| var == needle.as_bytes());
                if !marked {
                    return None;
                }
                let stat = fs::read_to_string(e.path().join("stat")).ok()?;
                let state = stat.get(stat.rfind(')')? + 2..)?.chars().next()?;
                if state == 'Z' || state == 'X' {
                    return None;
                }
                let comm = fs::read_to_string(e.path().join("comm")).ok()?;
                Some((pid, comm.trim().to_owned()))
            })
            .collect()
    }

    /// The settings process and WebKit's helpers among [`Desk::marked_processes`] (the bus
    /// daemon and what it activated, like the accessibility bus, belong to the test's bus).
    fn app_processes(&self) -> Vec<(u32, String)> {
        self.marked_processes()
            .into_iter()
            .filter(|(_, comm)| comm.starts_with("pushmail-settin") || comm.starts_with("WebKit"))
            .collect()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        // Whatever a failed test left running on this desk goes with it.
        for (pid, _) in self.marked_processes() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// Waits for the child with a deadline; `None` if it is still running.
/// Closes the window as a window manager does and waits for the process to exit. The close is
/// sent again every few seconds, as a person would click again: on a loaded machine the first
/// `WM_DELETE_WINDOW` can arrive while GTK is still setting the window up and be dropped.
/// Panics with the app's log if it never exits.
fn close_and_wait_exit(desk: &Desk, id: &str, child: &mut Child, log: &str) -> ExitStatus {
    let deadline = Instant::now() + EXIT_TIMEOUT;
    desk.close(id);
    loop {
        if let Some(status) = wait_exit(child, Duration::from_secs(5)) {
            return status;
        }
        if Instant::now() >= deadline {
            panic!(
                "pushmail-settings still runs {EXIT_TIMEOUT:?} after its window was closed; log:\n{}",
                desk.log(log)
            );
        }
        // Only while the window is still there: closing a destroyed window is an X error.
        if desk.windows().iter().any(|(w, _, _)| w == id) {
            desk.close(id);
        }
    }
}

fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for exactly one settings window, mapped and showing `rgb` somewhere (proof that the
/// UI rendered, not just that a window exists); returns its id.
fn wait_for_window(desk: &Desk, app: &mut Child, log: &str, rgb: [u8; 3]) -> String {
    let mut id = None;
    let shown = wait_until(WINDOW_TIMEOUT, || {
        if let Some(status) = app.try_wait()? {
            anyhow::bail!("pushmail-settings exited with {status}:\n{}", desk.log(log));
        }
        let windows = desk.windows();
        let Some((wid, w, h)) = windows.first().cloned() else {
            return Ok(false);
        };
        if !desk.is_viewable(&wid) {
            return Ok(false);
        }
        // The window exists before WebKit has painted; wait for the UI itself.
        let rendered = desk
            .capture(&wid)
            .is_some_and(|(_, _, px)| has_color(&px, rgb));
        id = Some((wid, w, h));
        Ok(rendered)
    })
    .unwrap();
    let (wid, w, h) = id.unwrap_or_default();
    assert!(
        shown,
        "no rendered settings window within {WINDOW_TIMEOUT:?} (last seen: {wid:?}); log:\n{}",
        desk.log(log)
    );
    // The default size from src-tauri/src/lib.rs (Xvfb has no window manager to change it).
    assert_eq!((w, h), (900, 640), "unexpected window size");
    wid
}

fn assert_gone(desk: &Desk, log: &str) {
    let mut left = Vec::new();
    let gone = wait_until(Duration::from_secs(10), || {
        left = desk.app_processes();
        Ok(left.is_empty())
    })
    .unwrap();
    assert!(
        gone,
        "still running after the window closed: {left:?}\nlog:\n{}",
        desk.log(log)
    );
    assert!(
        desk.windows().is_empty(),
        "a settings window is still mapped"
    );
}

#[test]
fn the_window_opens_renders_and_closing_it_ends_every_process() {
    let desk = Desk::new("settings-close");
    let mut app = desk.settings("app.log");
    let wid = wait_for_window(&desk, &mut app, "app.log", SIDEBAR_RGB);
    let shot = desk.screenshot(&wid, "window.png");

    // WebKit's helpers run while the window is open (so the check below is not vacuous).
    let running = desk.app_processes();
    assert!(
        running.iter().any(|(_, c)| c.starts_with("WebKit")),
        "expected WebKit helper processes, found {running:?}"
    );

    desk.close(&wid);
    let status = wait_exit(&mut app, EXIT_TIMEOUT).unwrap_or_else(|| {
        panic!(
            "pushmail-settings still runs {EXIT_TIMEOUT:?} after its window was closed; screenshot {}; log:\n{}",
            shot.display(),
            desk.log("app.log")
        )
    });
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        desk.log("app.log")
    );
    assert_gone(&desk, "app.log");
    let log = desk.log("app.log");
    assert!(!log.contains("panicked"), "log:\n{log}");
}

#[test]
fn a_second_start_brings_the_open_window_forward_instead_of_opening_another() {
    let desk = Desk::new("settings-single");
    let mut first = desk.settings("first.log");
    let wid = wait_for_window(&desk, &mut first, "first.log", SIDEBAR_RGB);

    let mut second = desk.settings("second.log");
    let status = wait_exit(&mut second, Duration::from_secs(30)).unwrap_or_else(|| {
        panic!(
            "the second pushmail-settings did not hand over and exit; log:\n{}",
            desk.log("second.log")
        )
    });
    assert!(
        status.success(),
        "second: {status}\n{}",
        desk.log("second.log")
    );
    assert_eq!(desk.windows().len(), 1, "two settings windows are open");
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first window went away"
    );

    let status = close_and_wait_exit(&desk, &wid, &mut first, "first.log");
    assert!(status.success());
    assert_gone(&desk, "first.log");
}

#[test]
fn a_broken_configuration_still_opens_the_window_and_is_left_untouched() {
    let desk = Desk::new("settings-broken");
    let config = desk.config();
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    let broken = "[[accounts]]\nid = \"work\"\nhost = \"imap.example.com\"\nusername = \"ana\"\ncolour = 1\n";
    fs::write(&config, broken).unwrap();

    let mut app = desk.settings("app.log");
    let wid = wait_for_window(&desk, &mut app, "app.log", PAGE_RGB);
    // It explains the file instead of showing the settings (which it could not read).
    let (_, _, pixels) = desk.capture(&wid).unwrap();
    assert!(
        !has_color(&pixels, SIDEBAR_RGB),
        "the settings were shown for a broken file"
    );
    let status = close_and_wait_exit(&desk, &wid, &mut app, "app.log");
    assert!(status.success(), "{}", desk.log("app.log"));
    assert_eq!(fs::read_to_string(&config).unwrap(), broken);
    assert_gone(&desk, "app.log");
}

#[test]
fn ppm_parsing_reads_what_import_writes() {
    let mut ppm = b"P6\n200 100\n255\n".to_vec();
    for _ in 0..200 * 100 {
        ppm.extend_from_slice(&SIDEBAR_RGB);
    }
    let (w, h, px) = parse_ppm(&ppm).unwrap();
    assert_eq!((w, h), (200, 100));
    assert!(has_color(&px, SIDEBAR_RGB));
    assert!(
        !has_color(&px[..3 * 9_999], SIDEBAR_RGB),
        "a few pixels are not an area"
    );
    assert!(parse_ppm(b"P3\n1 1\n255\n0 0 0").is_none());
    assert!(parse_ppm(b"").is_none());
    assert!(
        parse_ppm(b"P6\n2 2\n255\n\0\0\0").is_none(),
        "short pixel data"
    );
}
