//! A W3C WebDriver client for the settings window: Debian's `WebKitWebDriver` starts the real
//! `pushmail-settings` (the workspace's build or an installed one) with automation allowed,
//! and a test clicks and types in it as a user would: the settings end-to-end tests and the
//! package test (which turns on start at login through it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use pushmail_tests::free_port;
use serde_json::{Value, json};

use super::{Desktop, eventually};

const SLOW: Duration = Duration::from_secs(30);
/// The first WebKit start on a loaded 2-core machine takes several seconds; later ones ~1 s.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(90);

/// A child killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebKitWebDriver on a free loopback port with one session: the settings app it started.
pub struct WebDriver {
    port: u16,
    session: String,
    _driver: Guard,
}

/// One HTTP/1.0 exchange (so the answer is never chunked and ends with the connection):
/// `(status, JSON body)`.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    // Creating the session starts the app and waits for its first page.
    stream.set_read_timeout(Some(WINDOW_TIMEOUT))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let value = serde_json::from_str(body).unwrap_or_else(|_| json!({"unparsed": text}));
    Ok((status, value))
}

/// A script in `desk`'s directory that runs the workspace's `pushmail-settings` with `env`
/// exported and its output (stdout and stderr) in a log of its own, apart from the driver's:
/// what [`WebDriver::start`] is given as the app. Returns the script and the log.
pub fn settings_app(desk: &Desktop, name: &str, env: &[(String, String)]) -> (PathBuf, PathBuf) {
    let script = desk.dir.path().join(format!("{name}.sh"));
    let log = desk.dir.path().join(format!("{name}.log"));
    let exports: String = env
        .iter()
        .map(|(k, v)| format!("export {k}='{v}'\n"))
        .collect();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{exports}exec '{}' \"$@\" >'{}' 2>&1\n",
            pushmail_tests::bin("pushmail-settings").display(),
            log.display()
        ),
    )
    .expect("write the app script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("make the app script executable");
    (script, log)
}

impl WebDriver {
    /// Starts WebKitWebDriver inside `desk` and a session running `binary args…` with
    /// automation allowed. The app inherits the driver's environment.
    pub fn start(desk: &Desktop, binary: &Path, args: &[&str]) -> WebDriver {
        let port = free_port();
        let log = std::fs::File::create(desk.dir.path().join("webdriver.log")).unwrap();
        let driver = Guard(
            desk.command("WebKitWebDriver")
                .arg(format!("--port={port}"))
                .arg("--host=127.0.0.1")
                .env("TAURI_WEBVIEW_AUTOMATION", "true")
                // The desktop's XDG_DATA_DIRS is empty (no system mail handler); the driver
                // aborts without GLib's settings schemas.
                .env("GSETTINGS_SCHEMA_DIR", "/usr/share/glib-2.0/schemas")
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("WebKitWebDriver (apt-get install webkit2gtk-driver)"),
        );
        eventually(SLOW, "WebKitWebDriver to listen", || {
            http(port, "GET", "/status", None).ok()
        });
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "webkitgtk:browserOptions": {"binary": binary, "args": args}
        }}});
        let answer = http(port, "POST", "/session", Some(&capabilities));
        let session = match &answer {
            Ok((_, v)) => v["value"]["sessionId"].as_str().map(str::to_owned),
            Err(_) => None,
        };
        let session = session.unwrap_or_else(|| {
            panic!(
                "no WebDriver session: {answer:?}\nWebKitWebDriver's log:\n{}",
                std::fs::read_to_string(desk.dir.path().join("webdriver.log")).unwrap_or_default()
            )
        });
        WebDriver {
            port,
            session,
            _driver: driver,
        }
    }

    /// A session command; `Err` carries the WebDriver error (`{error, message}`).
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let path = format!("/session/{}{path}", self.session);
        let (status, answer) = http(self.port, method, &path, body.as_ref())
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        if status == 200 {
            Ok(answer["value"].clone())
        } else {
            Err(answer["value"].clone())
        }
    }

    pub fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, path, (!body.is_null()).then_some(body))
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let found = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .ok()?;
        found[ELEMENT].as_str().map(str::to_owned)
    }

    pub fn wait_for(&self, css: &str, timeout: Duration) -> String {
        eventually(timeout, &format!("an element {css}"), || self.find(css))
    }

    /// Clicks the element's centre, as a user would, after scrolling it to the middle of the
    /// view: WebDriver alone would leave it at the bottom edge, under the sticky form footer.
    pub fn click(&self, css: &str) {
        let el = self.wait_for(css, SLOW);
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": "arguments[0].scrollIntoView({block: 'center'})",
                   "args": [{ELEMENT: el}]}),
        );
        if let Err(e) = self.call("POST", &format!("/element/{el}/click"), Some(json!({}))) {
            panic!("click on {css}: {e}");
        }
    }

    /// Replaces the field's value by typing `text` into it (key events, as a user does).
    pub fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css, SLOW);
        self.cmd("POST", &format!("/element/{el}/clear"), json!({}));
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            json!({"text": text}),
        );
    }

    pub fn property(&self, css: &str, name: &str) -> Value {
        let el = self.wait_for(css, SLOW);
        self.cmd(
            "GET",
            &format!("/element/{el}/property/{name}"),
            Value::Null,
        )
    }

    /// The element's rendered text, once it exists.
    pub fn text(&self, css: &str) -> String {
        let el = self.wait_for(css, SLOW);
        let text = self.cmd("GET", &format!("/element/{el}/text"), Value::Null);
        text.as_str().unwrap_or_default().to_owned()
    }

    pub fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": js, "args": []}))
    }

    pub fn quit(&self) {
        // The app may be gone already (its window was closed): the answer does not matter.
        let _ = self.call("DELETE", "", None);
    }
}
