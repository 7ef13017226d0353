//! A test "browser" for the private desktop session (`scripts/desktop-session`), so the sign-in
//! tests go through Pushmail's real "open in browser" path: `xdg-open URL`.
//!
//! - [`UrlHandler`]: a `.desktop` handler registered as the default for `x-scheme-handler/https`
//!   and `http` (a `mimeapps.list` in a private `XDG_CONFIG_HOME`, the entry in a private
//!   `XDG_DATA_HOME/applications`) whose `Exec` appends the URL to a file the test reads. A
//!   process started with [`UrlHandler::env`] has its URLs "opened" there; xdg-open's generic
//!   path (no desktop environment detected, as in the Xvfb session) asks `xdg-mime` for the
//!   scheme handler before anything else. Per test, so tests run in parallel.
//! - [`chromium_sign_in`]: Debian's Chromium, headless, driven by the playwright-core the UI
//!   tests already use (`ui/node_modules`), loading an authorization URL and submitting the
//!   authorization server's login and consent forms like a person, then following the redirect
//!   to the client's loopback listener.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use tempfile::TempDir;

/// How often [`UrlHandler::wait_url`] looks at the file (xdg-open takes ~50 ms).
const URL_POLL: Duration = Duration::from_millis(25);

/// The desktop entry's file name (what `xdg-mime query default` answers).
const DESKTOP_ENTRY: &str = "pushmail-test-browser.desktop";

/// A registered test handler for web addresses.
pub struct UrlHandler {
    dir: TempDir,
    log: PathBuf,
}

impl UrlHandler {
    /// Writes the handler script, its desktop entry and the `mimeapps.list` that makes it the
    /// default for `https` and `http`.
    pub fn install() -> Result<UrlHandler> {
        let dir = tempfile::Builder::new()
            .prefix("pushmail-browser-")
            .tempdir()
            .context("Cannot create the test browser's directory")?;
        let log = dir.path().join("opened-urls");
        let script = dir.path().join("open-url");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\n# The test browser: remember the URL for the test.\nprintf '%s\\n' \"$1\" >> '{}'\n",
                log.display()
            ),
        )?;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
        let apps = dir.path().join("data/applications");
        fs::create_dir_all(&apps)?;
        fs::write(
            apps.join(DESKTOP_ENTRY),
            format!(
                "[Desktop Entry]\nType=Application\nName=Pushmail test browser\nExec={} %u\n\
                 MimeType=x-scheme-handler/https;x-scheme-handler/http;\nNoDisplay=true\n",
                script.display()
            ),
        )?;
        let config = dir.path().join("config");
        fs::create_dir_all(&config)?;
        fs::write(
            config.join("mimeapps.list"),
            format!(
                "[Default Applications]\nx-scheme-handler/https={DESKTOP_ENTRY}\n\
                 x-scheme-handler/http={DESKTOP_ENTRY}\n"
            ),
        )?;
        Ok(UrlHandler { dir, log })
    }

    /// Environment for a process whose `xdg-open` should reach this handler.
    pub fn env(&self) -> Vec<(String, String)> {
        let path = |p: &Path| p.display().to_string();
        vec![
            (
                "XDG_CONFIG_HOME".into(),
                path(&self.dir.path().join("config")),
            ),
            ("XDG_DATA_HOME".into(), path(&self.dir.path().join("data"))),
            // No desktop environment: xdg-open's generic path, which asks xdg-mime.
            ("XDG_CURRENT_DESKTOP".into(), String::new()),
            ("BROWSER".into(), String::new()),
        ]
    }

    /// Every URL opened so far, in order.
    pub fn urls(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits until URL number `n` (from 0) was opened and returns it.
    pub fn wait_url(&self, n: usize, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(url) = self.urls().into_iter().nth(n) {
                return Ok(url);
            }
            ensure!(
                Instant::now() < deadline,
                "No URL was opened in the test browser within {timeout:?}"
            );
            std::thread::sleep(URL_POLL);
        }
    }
}

/// What Chromium went through.
#[derive(Debug, Clone)]
pub struct ChromiumOutcome {
    /// `login`, `consent`: the forms it submitted.
    pub pages: Vec<String>,
    /// The address it ended on, without its query (it carries the code).
    pub final_url: String,
    /// The text of the last page (the loopback listener's answer).
    pub body: String,
}

/// The whole sign-in of a real browser: a headless Chromium, one page, the forms filled.
const CHROMIUM_SCRIPT: &str = r#"
const { chromium } = require(process.env.PW_CORE);
const [url, login, deny] = process.argv.slice(2);
(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  // The authorization server's certificate comes from a test CA Chromium does not know.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const pages = [];
  await page.goto(url);
  for (let i = 0; i < 4; i++) {
    const prompt = await page.locator('input[name=prompt]').first()
      .getAttribute('value', { timeout: 2000 }).catch(() => null);
    if (prompt === 'login') {
      pages.push('login');
      await page.fill('input[name=login]', login);
      const pw = page.locator('input[name=password]');
      if (await pw.count()) await pw.fill('any password');
      await Promise.all([page.waitForNavigation(), page.locator('form [type=submit]').first().click()]);
    } else if (prompt === 'consent') {
      pages.push('consent');
      if (deny === 'deny') {
        await Promise.all([page.waitForNavigation(), page.locator('a, button').filter({ hasText: /cancel|abort/i }).first().click()]);
      } else {
        await Promise.all([page.waitForNavigation(), page.locator('form [type=submit]').first().click()]);
      }
    } else {
      break;
    }
  }
  const body = (await page.textContent('body').catch(() => '')) || '';
  const final_url = page.url().split('?')[0];
  console.log(JSON.stringify({ pages, final_url, body: body.trim() }));
  await browser.close();
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
"#;

/// A whole Chromium sign-in can take: its start (~1 s), four pages, the redirect.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens `url` in Debian's headless Chromium, logs in as `login` and approves (or with `deny`
/// cancels) the consent page, and lets the browser follow the redirect.
pub fn chromium_sign_in(url: &str, login: &str, deny: bool) -> Result<ChromiumOutcome> {
    let chromium = Path::new("/usr/bin/chromium");
    ensure!(
        chromium.exists(),
        "Chromium is not installed (/usr/bin/chromium): run scripts/setup --test"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    let pw = root.join("ui/node_modules/playwright-core");
    ensure!(
        pw.join("package.json").is_file(),
        "playwright-core is not installed in ui/node_modules: run scripts/setup --test"
    );
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("chromium-sign-in.cjs");
    fs::write(&script, CHROMIUM_SCRIPT)?;
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .arg(url)
        .arg(login)
        .arg(if deny { "deny" } else { "approve" })
        .env("PW_CORE", &pw)
        .env("CHROMIUM", chromium)
        .env("HOME", dir.path());
    let out = crate::process::run(&mut cmd, CHROMIUM_TIMEOUT)?;
    if !out.status.success() {
        bail!(
            "Chromium sign-in failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let report: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("No report: {}", String::from_utf8_lossy(&out.stdout)))?;
    let text = |k: &str| {
        report
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(ChromiumOutcome {
        pages: report
            .get("pages")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        final_url: text("final_url"),
        body: text("body"),
    })
}
