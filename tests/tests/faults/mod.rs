//! Helpers shared by the fault-injection tests (hostile_server, network, crash): accounts that
//! point at a scripted server or through a fault proxy, and what `/proc` says about the
//! `pushmail-cli` process under attack.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use pushmail_tests::Dovecot;
use serde_json::Value;

use crate::common::{Pushmail, Via, Watch};

/// The password every scripted account uses; distinctive, so a leak is unmistakable.
pub const SCRIPTED_PW: &str = "Scr1pted-S3cret-pw";

/// An `[[accounts]]` block for a scripted server on 127.0.0.1:`port`.
pub fn scripted_account(
    pm: &Pushmail,
    id: &str,
    port: u16,
    security: &str,
    ca_file: Option<&Path>,
    extra: &str,
) -> String {
    let pw = pm.password_file(SCRIPTED_PW);
    let ca = ca_file
        .map(|c| format!("ca_file = \"{}\"\n", c.display()))
        .unwrap_or_default();
    format!(
        "[[accounts]]\nid = \"{id}\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"{security}\"\n\
         username = \"alice\"\npassword_command = [\"cat\", \"{pw}\"]\n{ca}\
         backoff_min_secs = 1\nbackoff_max_secs = 2\n{extra}\n",
        pw = pw.display(),
    )
}

/// An account for `user` on `dc` over implicit TLS, but through 127.0.0.1:`port` (a proxy).
/// The test CA's certificate names 127.0.0.1, so TLS verifies as it would directly.
pub fn proxied_account(
    pm: &Pushmail,
    dc: &Dovecot,
    id: &str,
    user: &str,
    password: &str,
    port: u16,
    extra: &str,
) -> String {
    let direct = pm.account_toml(dc, id, user, Via::Tls, password, extra);
    // `extra` wins over the defaults account_toml writes (TOML forbids duplicate keys).
    let overridden: Vec<&str> = extra
        .lines()
        .filter_map(|l| l.split('=').next().map(str::trim))
        .filter(|k| !k.is_empty())
        .collect();
    let mut seen_extra = false;
    direct
        .lines()
        .filter(|l| {
            // Keep `extra`'s own lines (they come last), drop earlier defaults they override.
            let key = l.split('=').next().map(str::trim).unwrap_or("");
            if extra.lines().next().is_some_and(|first| *l == first) {
                seen_extra = true;
            }
            seen_extra || !overridden.contains(&key)
        })
        .map(|l| {
            if l.starts_with("port = ") {
                format!("port = {port}\n")
            } else if l.starts_with("host = ") {
                "host = \"127.0.0.1\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`), in KiB.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS (`clear_refs` value 5), so a
/// later `VmHWM` is the peak since now.
pub fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset VmHWM");
}

/// Open file descriptors of a process.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("proc fd")
        .count()
}

/// Whether the process is still alive and not a zombie.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim_start().to_owned()))
        .is_some_and(|r| !r.starts_with('Z') && !r.starts_with('X'))
}

/// Waits until every account in `ids` has reported `state`.
pub fn wait_all(w: &mut Watch, ids: &[&str], state: &str, timeout: Duration) {
    let mut left: HashSet<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    while !left.is_empty() {
        let (_, v) = w.wait_for(timeout, &format!("{state} for {left:?}"), |v| {
            v["event"] == "state" && v["state"] == state
        });
        if let Some(a) = v["account"].as_str() {
            left.remove(a);
        }
    }
}

/// Waits for a state event of `account` whose detail contains `text`; returns the event.
pub fn wait_detail(w: &mut Watch, account: &str, text: &str, timeout: Duration) -> Value {
    w.wait_for(timeout, &format!("{account}: detail with {text:?}"), |v| {
        v["event"] == "state"
            && v["account"] == account
            && v["detail"].as_str().is_some_and(|d| d.contains(text))
    })
    .1
}

/// Waits until each `(account, text)` pair has had a state event whose detail contains the
/// text, in any order (events already in `w.seen` count). Returns the matching events, in the
/// order of `pairs`.
pub fn wait_details(w: &mut Watch, pairs: &[(&str, &str)], timeout: Duration) -> Vec<Value> {
    let matches = |v: &Value, (account, text): (&str, &str)| {
        v["event"] == "state"
            && v["account"] == account
            && v["detail"].as_str().is_some_and(|d| d.contains(text))
    };
    let mut found: Vec<Option<Value>> = pairs
        .iter()
        .map(|p| {
            w.seen
                .iter()
                .map(|(_, v)| v)
                .find(|v| matches(v, *p))
                .cloned()
        })
        .collect();
    while found.iter().any(Option::is_none) {
        let missing: Vec<_> = pairs
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(p, _)| *p)
            .collect();
        let (_, v) = w.wait_for(timeout, &format!("details {missing:?}"), |v| {
            missing.iter().any(|p| matches(v, *p))
        });
        for (p, f) in pairs.iter().zip(found.iter_mut()) {
            if f.is_none() && matches(&v, *p) {
                *f = Some(v.clone());
            }
        }
    }
    found.into_iter().flatten().collect()
}

/// Waits for `account` to report `state`.
pub fn wait_account_state(w: &mut Watch, account: &str, state: &str, timeout: Duration) -> Value {
    w.wait_for(timeout, &format!("{account}: {state}"), |v| {
        v["event"] == "state" && v["account"] == account && v["state"] == state
    })
    .1
}

/// Waits until `account` is in `state`: its latest state event says so (it may have come
/// before events the test waited for, as `push` comes before the first IDLE round catches up
/// mail that arrived while away), or the next one does.
pub fn wait_in_state(w: &mut Watch, account: &str, state: &str, timeout: Duration) {
    let latest = w
        .seen
        .iter()
        .rev()
        .find(|(_, v)| v["event"] == "state" && v["account"] == account)
        .map(|(_, v)| v["state"] == state);
    if latest != Some(true) {
        wait_account_state(w, account, state, timeout);
    }
}

/// `new_mail` events seen so far with this subject.
pub fn count_subject(w: &Watch, subject: &str) -> usize {
    w.count_new_mail(subject)
}

/// Each subject was announced exactly once: nothing lost, nothing repeated.
pub fn assert_each_once<S: AsRef<str>>(w: &Watch, subjects: &[S]) {
    for s in subjects.iter().map(AsRef::as_ref) {
        assert_eq!(count_subject(w, s), 1, "{s}: {:#?}", w.new_mails());
    }
}

/// Polls `cond` every 20 ms for up to `timeout`.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    pushmail_tests::wait_until(timeout, || Ok(cond())).unwrap_or(false)
}

/// A private D-Bus daemon for one test, so signals a test emits (a fake logind or
/// NetworkManager) reach only its own `pushmail-cli` (`--power-bus ADDRESS`).
pub struct PrivateBus {
    child: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl PrivateBus {
    pub fn start() -> PrivateBus {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = std::process::Command::new("dbus-daemon")
            .args([
                "--session",
                "--nofork",
                "--nopidfile",
                "--nosyslog",
                "--print-address=1",
            ])
            .arg(format!(
                "--address=unix:path={}",
                dir.path().join("bus").display()
            ))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("dbus-daemon address");
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        PrivateBus {
            child,
            address,
            _dir: dir,
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// `busctl emit` of a signal: `signature` then the arguments in busctl's notation.
    /// (Not `gdbus emit --address`: it sends without registering on the bus, and the daemon
    /// routes such messages to no one.)
    pub fn emit(&self, path: &str, interface: &str, member: &str, args: &[&str]) {
        let out = std::process::Command::new("busctl")
            .arg(format!("--address={}", self.address))
            .args(["emit", path, interface, member])
            .args(args)
            .output()
            .expect("busctl emit");
        assert!(
            out.status.success(),
            "busctl emit {member} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// logind's `PrepareForSleep(sleeping)`.
    pub fn prepare_for_sleep(&self, sleeping: bool) {
        self.emit(
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            &["b", if sleeping { "true" } else { "false" }],
        );
    }

    /// NetworkManager's `StateChanged(state)` (20 disconnected, 70 connected globally).
    pub fn nm_state(&self, state: u32) {
        self.emit(
            "/org/freedesktop/NetworkManager",
            "org.freedesktop.NetworkManager",
            "StateChanged",
            &["u", &state.to_string()],
        );
    }

    /// NetworkManager's `Connectivity` property changing (4 = full).
    pub fn nm_connectivity(&self, connectivity: u32) {
        self.emit(
            "/org/freedesktop/NetworkManager",
            "org.freedesktop.DBus.Properties",
            "PropertiesChanged",
            &[
                "sa{sv}as",
                "org.freedesktop.NetworkManager",
                "1",
                "Connectivity",
                "u",
                &connectivity.to_string(),
                "0",
            ],
        );
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
