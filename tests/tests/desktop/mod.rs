//! A private virtual desktop per test: its own X server (Xvfb), D-Bus session bus (no service
//! activation, eavesdropping allowed), notification daemon (dunst), and a StatusNotifierWatcher
//! that also records the notification and Pushmail D-Bus traffic. Plus the real `pushmail`
//! binary started inside it, and helpers to read the tray item and click its menu.
//!
//! Each test gets its own everything, so tests run in parallel and one test's popups never
//! appear in another's screenshot.
#![allow(dead_code)] // each test uses a different subset

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushmail_tests::bin;
use serde_json::Value;

pub mod webdriver;

const PYTHON: &str = "/usr/bin/python3";

fn helper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/desktop/bus.py")
}

/// A child killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads a child's stdout as JSON lines on a thread.
fn json_lines(child: &mut Child) -> Receiver<Value> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    rx
}

/// A process a test holds for as long as it needs it: killed when dropped.
pub struct Held(Guard);

impl Held {
    pub fn new(child: Child) -> Held {
        Held(Guard(child))
    }

    pub fn id(&self) -> u32 {
        self.0.0.id()
    }
}

pub struct Desktop {
    pub dir: tempfile::TempDir,
    pub bus: String,
    pub display: String,
    children: Vec<Guard>,
    messages: Receiver<Value>,
    /// Every message the watcher printed so far.
    pub seen: Vec<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daemon {
    Dunst,
    /// A notification daemon that never answers.
    Hung,
    None,
}

impl Desktop {
    /// The process id of the connection that owns `name` on this desktop's bus, if any.
    pub fn owner_pid(&self, name: &str) -> Option<u32> {
        let out = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
            ])
            .arg(format!("string:{name}"))
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .last()?
            .parse()
            .ok()
    }

    pub fn start(daemon: Daemon) -> Desktop {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["run", "config", "data/applications", "state", "empty"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        let mut children = Vec::new();

        // X server: -displayfd 1 prints the display number it chose on stdout.
        let mut x = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1024x600x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/setup --test installs it)");
        let mut line = String::new();
        BufReader::new(x.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("Xvfb display");
        let display = format!(":{}", line.trim());
        children.push(Guard(x));

        // A private bus without service activation, so nothing starts behind the test's back.
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:dir={}</listen><auth>EXTERNAL</auth>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                dir.path().join("run").display()
            ),
        )
        .expect("bus.conf");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut addr = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut addr)
            .expect("bus address");
        children.push(Guard(bus));

        let mut desktop = Desktop {
            dir,
            bus: addr.trim().to_owned(),
            display,
            children,
            messages: channel().1,
            seen: Vec::new(),
        };

        let mut watcher = desktop
            .command(PYTHON)
            .arg(helper())
            .arg("watch")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("watcher");
        desktop.messages = json_lines(&mut watcher);
        desktop.children.push(Guard(watcher));
        desktop.wait_message(Duration::from_secs(10), "watcher ready", |m| {
            m["kind"] == "ready"
        });

        match daemon {
            Daemon::Dunst => {
                let conf = desktop.dir.path().join("dunstrc");
                std::fs::write(&conf, DUNSTRC).expect("dunstrc");
                let dunst = desktop
                    .command("dunst")
                    .arg("-config")
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("dunst");
                desktop.children.push(Guard(dunst));
                desktop.wait_owner("org.freedesktop.Notifications");
            }
            Daemon::Hung => {
                let mut hung = desktop
                    .command(PYTHON)
                    .arg(helper())
                    .arg("hung-daemon")
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("hung daemon");
                let rx = json_lines(&mut hung);
                let _ = rx.recv_timeout(Duration::from_secs(10));
                desktop.children.push(Guard(hung));
                desktop.wait_owner("org.freedesktop.Notifications");
            }
            Daemon::None => {}
        }
        desktop
    }

    /// A command that runs inside this desktop.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        let d = self.dir.path();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", d)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("DISPLAY", &self.display)
            .env("XDG_RUNTIME_DIR", d.join("run"))
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_DATA_DIRS", d.join("empty"))
            .env("XDG_STATE_HOME", d.join("state"))
            .env("LANG", "C.UTF-8")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a one-shot helper command; its JSON output, or `Err(stderr)`.
    pub fn try_py(&self, args: &[&str]) -> Result<Value, String> {
        let out = self
            .command(PYTHON)
            .arg(helper())
            .args(args)
            .output()
            .expect("python helper");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {:?}", out.stdout))
    }

    pub fn py(&self, args: &[&str]) -> Value {
        self.try_py(args)
            .unwrap_or_else(|e| panic!("bus.py {args:?} failed: {e}"))
    }

    fn wait_owner(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.try_py(&["has-owner", name]) == Ok(Value::Bool(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{name} never appeared on the bus");
    }

    /// Waits for a watcher message matching `pred` (earlier ones are kept in `seen`), searching
    /// those already seen first.
    pub fn wait_message(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {what}; bus traffic so far:\n{}",
                    self.seen
                        .iter()
                        .map(|v| v.to_string().chars().take(300).collect::<String>())
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    /// Collects whatever the watcher prints within `d`.
    pub fn collect_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Ok(v) = self
            .messages
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(v);
        }
    }

    /// Calls seen so far to `member` of the notification service.
    pub fn notify_calls(&self, member: &str) -> Vec<Value> {
        self.seen
            .iter()
            .filter(|m| {
                m["kind"] == "call"
                    && m["member"] == member
                    && m["interface"] == "org.freedesktop.Notifications"
            })
            .cloned()
            .collect()
    }

    /// The id the daemon gave the popup of a Notify call (from its method return).
    pub fn notification_id(&mut self, notify: &Value) -> u64 {
        let serial = notify["serial"].as_u64().expect("serial");
        let sender = notify["sender"].as_str().unwrap_or("").to_owned();
        let reply = self.wait_message(Duration::from_secs(5), "Notify's reply", |m| {
            m["kind"] == "return" && m["reply_serial"] == serial && m["destination"] == sender
        });
        reply["args"][0].as_u64().expect("id")
    }

    /// Takes a screenshot of the top-right corner of the X screen (where dunst shows popups)
    /// into `path` (PNG).
    pub fn screenshot(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        let status = self
            .command("import")
            .args(["-window", "root", "-crop", "480x110+544+0", "+repage"])
            .arg(path)
            .status()
            .expect("import (imagemagick)");
        assert!(status.success(), "import failed");
    }

    /// Registers `argv0` (a script) as the default `mailto:` application, its Exec line with
    /// a `%u` that must be dropped.
    pub fn set_mail_client(&self, script: &Path) {
        let file = self
            .dir
            .path()
            .join("data/applications/pushmail-test-mail.desktop");
        std::fs::write(
            &file,
            format!(
                "[Desktop Entry]\nType=Application\nName=Test Mail\nExec={} --main-window %u\n\
                 MimeType=x-scheme-handler/mailto;\n",
                script.display()
            ),
        )
        .expect("desktop file");
        let status = self
            .command("xdg-mime")
            .args([
                "default",
                "pushmail-test-mail.desktop",
                "x-scheme-handler/mailto",
            ])
            .status()
            .expect("xdg-mime");
        assert!(status.success());
    }
}

const DUNSTRC: &str = "[global]\n\
    font = DejaVu Sans 11\n\
    width = 420\n\
    origin = top-right\n\
    offset = 12x12\n\
    markup = full\n\
    format = \"<b>%s</b>\\n%b\"\n\
    icon_position = left\n\
    max_icon_size = 48\n\
    frame_width = 2\n\
    corner_radius = 6\n\
    [urgency_low]\n    timeout = 0\n\
    [urgency_normal]\n    background = \"#263238\"\n    foreground = \"#ECEFF1\"\n    frame_color = \"#1E88E5\"\n    timeout = 0\n\
    [urgency_critical]\n    timeout = 0\n";

/// The real `pushmail` binary running inside a [`Desktop`].
pub struct Tray {
    child: Child,
    log: PathBuf,
}

impl Tray {
    pub fn start(desktop: &Desktop, config: &Path) -> Tray {
        Tray::start_with(desktop, config, &[], &[])
    }

    /// [`Tray::start`] with more command-line arguments and environment variables.
    pub fn start_with(
        desktop: &Desktop,
        config: &Path,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Tray {
        let mut all = vec![std::ffi::OsStr::new("--config"), config.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        Tray::start_program(desktop, &bin("pushmail"), &all, env)
    }

    /// A tray from `program` — the workspace's build, or an installed `/usr/bin/pushmail` —
    /// with exactly `args` (no `--config`: the desktop's XDG directories decide).
    pub fn start_program(
        desktop: &Desktop,
        program: &Path,
        args: &[&std::ffi::OsStr],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Tray {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let log = desktop.dir.path().join(format!(
            "pushmail-{}-{}.log",
            Instant::now().elapsed().as_nanos(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let child = desktop
            .command(program)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
        Tray { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn stderr_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Tray {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A wall clock of their own for the processes started with [`WallClock::env`]: it can jump
/// ahead while their monotonic clock does not, which is what a resume from sleep looks like
/// from inside a process (`wallclock.c`, preloaded). The machine's clock is never touched.
pub struct WallClock {
    library: PathBuf,
    offset_file: PathBuf,
    offset_secs: i64,
}

impl WallClock {
    /// Builds the shim into `dir` with the system C compiler (the one Rust links with).
    pub fn new(dir: &Path) -> WallClock {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/desktop/wallclock.c");
        let library = dir.join("wallclock.so");
        let out = Command::new("cc")
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&library)
            .arg(&source)
            .arg("-ldl")
            .output()
            .expect("cc (the C compiler Rust links with)");
        assert!(
            out.status.success(),
            "cc wallclock.c failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let clock = WallClock {
            library,
            offset_file: dir.join("wall-offset"),
            offset_secs: 0,
        };
        clock.write();
        clock
    }

    /// Environment variables that give a process this clock.
    pub fn env(&self) -> Vec<(&'static str, &std::ffi::OsStr)> {
        vec![
            ("LD_PRELOAD", self.library.as_os_str()),
            (
                "PUSHMAIL_TEST_WALL_OFFSET_FILE",
                self.offset_file.as_os_str(),
            ),
        ]
    }

    /// Moves the wall clock `secs` ahead, at once, as a suspend of that long would.
    pub fn jump(&mut self, secs: i64) {
        self.offset_secs += secs;
        self.write();
    }

    /// Replaces the file in one rename, so a reading never sees half of it.
    fn write(&self) {
        let tmp = self.offset_file.with_extension("tmp");
        std::fs::write(&tmp, self.offset_secs.to_string()).expect("offset file");
        std::fs::rename(&tmp, &self.offset_file).expect("offset file");
    }
}

/// Polls `f` every 50 ms until it returns `Some` or `timeout` passes.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Shared state for a script that records how it was started.
pub fn recorder(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let out = dir.join(format!("{name}.out"));
    let script = dir.join(format!("{name}.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {out}.tmp\nmv {out}.tmp {out}\n",
            out = out.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, out)
}

pub type Shared<T> = Arc<Mutex<T>>;

impl Desktop {
    /// An unlocked gnome-keyring (a real Secret Service) on this desktop's own bus, so the
    /// keyring a test reads is the one the program wrote and nothing reaches the user's.
    pub fn start_keyring(&self) -> Held {
        use std::io::Write as _;
        let mut child = self
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt-get install gnome-keyring)");
        // --unlock reads the keyring's own password from stdin, up to EOF.
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"pushmail-test-keyring")
            .expect("keyring password");
        drop(stdin);
        let held = Held::new(child);
        eventually(
            Duration::from_secs(30),
            "the Secret Service on the bus",
            || {
                (self.try_py(&["has-owner", "org.freedesktop.secrets"]) == Ok(Value::Bool(true)))
                    .then_some(())
            },
        );
        held
    }

    /// `secret-tool lookup service pushmail username ENTRY` on this desktop's keyring: a
    /// password (`ENTRY` = the account id) or a sign-in's refresh token (`<id>:oauth2`).
    pub fn keyring_lookup(&self, entry: &str) -> Option<String> {
        let out = self
            .command("secret-tool")
            .args(["lookup", "service", "pushmail", "username", entry])
            .output()
            .expect("secret-tool (apt-get install libsecret-tools)");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
