//! The relay's independent Web Push receiver (`tests/relay/receiver.py`: http_ece, py_vapid
//! and a second decryption written on `cryptography`), run as a process: it makes its own
//! subscriptions, checks VAPID as strict push services do, decrypts every push and records it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// `tests/relay` in the checkout.
pub fn relay_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("relay")
}

/// The Python of the receivers' venv (`scripts/setup --test` makes it).
pub fn venv_python() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").unwrap_or_default();
    let py = Path::new(&home).join(".cache/pushmail/relay-venv/bin/python");
    if !py.is_file() {
        bail!("{} is missing: run `scripts/setup --test`", py.display());
    }
    Ok(py)
}

/// A running receiver; killed on drop (it also exits when its stdin closes).
pub struct PushReceiver {
    child: Child,
    _stdin: Option<ChildStdin>,
    port: u16,
    dir: tempfile::TempDir,
}

impl PushReceiver {
    /// Starts one with `subscriptions` subscriptions.
    pub fn start(subscriptions: usize) -> Result<PushReceiver> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(venv_python()?)
            .arg(relay_tests_dir().join("receiver.py"))
            .arg("--dir")
            .arg(dir.path())
            .args(["--subscriptions", &subscriptions.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting receiver.py")?;
        let stdout = child.stdout.take().context("receiver stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(port) = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
        else {
            let _ = child.kill();
            bail!("receiver.py did not start: {line:?}");
        };
        Ok(PushReceiver {
            _stdin: child.stdin.take(),
            child,
            port,
            dir,
        })
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Subscription `i` as a browser's `PushSubscription.toJSON()`: `{endpoint, keys}`.
    pub fn subscription(&self, i: usize) -> Value {
        let text =
            std::fs::read_to_string(self.dir.path().join("subscriptions.json")).unwrap_or_default();
        let all: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let s = &all[i];
        serde_json::json!({"endpoint": s["endpoint"], "keys": s["keys"]})
    }

    /// Everything it recorded so far (`delivered`, `answered`, `violation` lines).
    pub fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The decrypted payloads of the pushes it accepted, in order.
    pub fn delivered(&self) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["type"] == "delivered")
            .map(|e| e["plaintext"].clone())
            .collect()
    }

    /// What it refused, and why.
    pub fn violations(&self) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["type"] == "violation")
            .collect()
    }

    /// Waits until `done(delivered payloads)`; returns them (panics with what came when not).
    pub fn wait_until_all(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.delivered();
            if done(&got) {
                return got;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "the receiver did not get everything within {timeout:?}; it got {} pushes, violations: {:?}",
                    got.len(),
                    self.violations()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for one payload matching `pred`.
    pub fn wait_for(&self, timeout: Duration, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let got = self.wait_until_all(timeout, |all| all.iter().any(&mut pred));
        got.into_iter().find(|v| pred(v)).unwrap_or(Value::Null)
    }
}

impl Drop for PushReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
