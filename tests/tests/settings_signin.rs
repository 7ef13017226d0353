//! Sign-in (OAuth2) from the real settings window, end to end, on a private virtual desktop
//! (Xvfb, D-Bus session, an unlocked gnome-keyring on that bus) against the test bed: panva's
//! oidc-provider as the authorization server and a Dovecot that takes only its tokens
//! (`passdb { driver = oauth2 }`, introspection).
//!
//! - An account added in the window with a custom provider: access denied at the provider's
//!   page is shown in the form with what to do, and nothing is stored. "Sign in" runs the desktop's real
//!   "open in browser" path (`xdg-open`, reaching the test's `x-scheme-handler/https` handler),
//!   the window shows the same address with a Copy button, Debian's Chromium completes the
//!   login and consent pages and gets the translated "you can close this tab" page, then the
//!   window saves the account and its connection test passes step by step. The refresh token
//!   is in the keyring, and in no file and no output; the config file has no secret.
//! - `pushmail-settings --account ID` while the window is open hands the account to it over
//!   D-Bus (`ShowAccount`) and exits; the window shows that account's page with its sign-in.
//!   Signing in again there replaces the grant and the test passes again. Started with
//!   `--account ID` when no window is open, the window opens on that page.
//!
//! The form is driven over W3C WebDriver (`WebKitWebDriver`), as in `settings_e2e.rs`.
//! Needs (scripts/setup --test): Xvfb, dbus-daemon, gnome-keyring, secret-tool,
//! WebKitWebDriver, Node with oidc-provider, Dovecot, Chromium and playwright-core in ui/.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::unique_id;
use desktop::webdriver::WebDriver;
use desktop::{Daemon, Desktop, eventually};
use pushmail_core::config::{Config, PasswordSource};
use pushmail_tests::browser::{UrlHandler, chromium_sign_in};
use pushmail_tests::oidc::UserAgentOptions;
use pushmail_tests::{Dovecot, DovecotOptions, OAuth2Passdb, OidcOptions, OidcServer, bin};
use serde_json::Value;

const SLOW: Duration = Duration::from_secs(30);
/// The first WebKit start on a loaded 2-core machine takes several seconds; later ones ~1 s.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(90);
/// From "Sign in" to the URL reaching the test browser (listener, xdg-open).
const URL_OPENED: Duration = Duration::from_secs(20);
/// From the redirect to a passed connection test (code exchange, keyring, save, test).
const SIGNED_IN_AND_TESTED: Duration = Duration::from_secs(60);

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}

/// A wrapper that starts `pushmail-settings` with the test browser's environment and its
/// output in files of its own (WebDriver starts the binary it is given).
fn wrapper(desk: &Desktop, handler: &UrlHandler, name: &str) -> (PathBuf, PathBuf) {
    desktop::webdriver::settings_app(desk, name, &handler.env())
}

/// Text without Fluent's bidi isolation marks, for comparisons.
fn plain(text: String) -> String {
    text.replace(['\u{2068}', '\u{2069}'], "")
}

/// Sets a `<select>` the way a user's choice does (value, then `change`).
fn choose(wd: &WebDriver, css: &str, value: &str) {
    wd.wait_for(css, SLOW);
    wd.script(&format!(
        "const s = document.querySelector('{css}'); s.value = '{value}'; \
         s.dispatchEvent(new Event('change', {{bubbles: true}}));"
    ));
}

#[test]
fn a_new_account_signs_in_through_the_desktop_browser_then_tests_and_saves_without_a_secret_in_the_file()
 {
    let oidc = OidcServer::start(OidcOptions::default()).expect("oidc-provider");
    let dc = Dovecot::start(DovecotOptions {
        oauth2: Some(OAuth2Passdb::for_server(&oidc)),
        ..DovecotOptions::default()
    })
    .expect("dovecot");
    let user = unique_id("carol");
    let desk = Desktop::start(Daemon::Dunst);
    let _keyring = desk.start_keyring();
    let handler = UrlHandler::install().expect("test browser");
    let config = desk.dir.path().join("config/pushmail/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "").unwrap();
    // The account's ca_file must trust both test CAs: Dovecot's and the provider's.
    let bundle = desk.dir.path().join("ca-bundle.pem");
    let pems = [dc.ca_file(), oidc.ca_file()]
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("CA"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&bundle, pems).unwrap();

    let (app, log) = wrapper(&desk, &handler, "settings");
    let wd = WebDriver::start(&desk, &app, &["--config", config.to_str().unwrap()]);
    // Add account starts from the address; a self-hosted server is entered by hand.
    wd.wait_for(".add-account [data-action=manual]", WINDOW_TIMEOUT);
    wd.click("[data-action=manual]");
    wd.wait_for("input[name=host]", SLOW);

    // The form as a user fills it for a self-hosted server: "Sign in with another provider".
    wd.fill("input[name=name]", "Carol");
    wd.fill("input[name=email]", &format!("{user}@example.org"));
    let id = wd.property("input[name=id]", "value");
    let id = id.as_str().unwrap().to_owned();
    choose(&wd, "select[name=signin-method]", "custom");
    assert_eq!(
        wd.script("return document.querySelector('input[name=password]').closest('.field').hidden"),
        Value::Bool(true),
        "no password field in sign-in mode"
    );
    wd.fill("input[name=host]", dc.host());
    wd.fill("input[name=port]", &dc.imaps_port().to_string());
    wd.fill("input[name=username]", &user);
    wd.fill(
        "input[name=oauth-authorization-endpoint]",
        &oidc.authorization_endpoint(),
    );
    wd.fill("input[name=oauth-token-endpoint]", &oidc.token_endpoint());
    wd.fill("input[name=oauth-client-id]", "pushmail");
    wd.fill(
        "input[name=oauth-scopes]",
        "openid offline_access email imap",
    );
    wd.fill("input[name=oauth-issuer]", oidc.issuer());
    wd.click("details.advanced > summary");
    wd.fill("input[name=ca-file]", bundle.to_str().unwrap());

    // Access denied at the provider's page: the form says so and what to do; nothing stored.
    wd.click("[data-action=sign-in]");
    let denied_url = handler.wait_url(0, URL_OPENED).expect("the URL opened");
    let outcome = chromium_sign_in(&denied_url, &user, true).expect("Chromium");
    assert!(outcome.pages.contains(&"consent".to_owned()), "{outcome:?}");
    let error = eventually(SLOW, "the denial shown in the form", || {
        let text = wd
            .script("return document.querySelector('.form-error')?.textContent ?? ''")
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (!text.is_empty()).then_some(text)
    });
    assert!(
        error.contains("The sign-in did not complete")
            && error.contains("denied")
            && error.contains("try again"),
        "{error}"
    );
    assert!(desk.keyring_lookup(&format!("{id}:oauth2")).is_none());
    assert!(Config::load(&config).unwrap().accounts.is_empty());

    // "Sign in" again: the desktop's browser is asked to open the provider's page, and the
    // window shows the same address to copy.
    wd.click("[data-action=sign-in]");
    let url = handler.wait_url(1, URL_OPENED).expect("the URL opened");
    assert!(url.starts_with(&oidc.authorization_endpoint()), "{url}");
    wd.wait_for("input[name=signin-url]", SLOW);
    assert_eq!(wd.property("input[name=signin-url]", "value"), url.as_str());
    wd.click("[data-action=copy-url]");
    eventually(SLOW, "the Copy button to say it copied", || {
        (plain(wd.text("[data-action=copy-url]")) == "Copied").then_some(())
    });
    assert!(
        plain(wd.text(".signin-waiting")).contains("5 minutes"),
        "{}",
        wd.text(".signin-waiting")
    );

    // A person in Chromium: login page, consent page, then Pushmail's page.
    let outcome = chromium_sign_in(&url, &user, false).expect("Chromium");
    assert!(
        outcome.body.contains("close this tab"),
        "the browser's last page: {outcome:?}"
    );

    // Saved, then the usual connection test of the saved account, every step passing.
    let statuses = "return [...document.querySelectorAll('[data-step]')]\
                    .map(e => e.dataset.step + '=' + e.dataset.status).join(' ')";
    let last = eventually(SIGNED_IN_AND_TESTED, "the connection test to pass", || {
        let now = wd.script(statuses).as_str().unwrap_or_default().to_owned();
        let error = wd
            .script("return document.querySelector('.form-error')?.textContent ?? ''")
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.is_empty(), "the form shows an error: {error}");
        assert!(!now.contains("=failed"), "a step failed: {now}");
        (!now.is_empty() && now.split(' ').all(|s| s.ends_with("=ok"))).then_some(now)
    });
    assert_eq!(
        last,
        "password=ok tcp=ok tls=ok login=ok capabilities=ok folders=ok"
    );
    assert!(
        wd.text("h1").contains("Carol"),
        "now the account's own page: {}",
        wd.text("h1")
    );

    // The grant is in the keyring, under the account's id; the file names only the provider.
    let refresh = desk
        .keyring_lookup(&format!("{id}:oauth2"))
        .expect("refresh token stored");
    assert!(refresh.len() > 10);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(&refresh), "refresh token in the config");
    let saved = Config::load(&config).unwrap();
    assert_eq!(saved.accounts.len(), 1, "{text}");
    let account = &saved.accounts[0];
    assert_eq!(account.id, id);
    match &account.password {
        PasswordSource::OAuth2(o) => {
            assert_eq!(o.provider, "custom");
            assert_eq!(o.client_id.as_deref(), Some("pushmail"));
            assert_eq!(
                o.scopes.as_deref(),
                Some(&["openid", "offline_access", "email", "imap"].map(String::from)[..])
            );
        }
        other => panic!("not a sign-in account: {other:?}\n{text}"),
    }
    assert!(oidc.grant_revocations().is_empty());

    // --account ID while the window is open: the running window shows it; the second process
    // exits at once.
    wd.click("[data-page=general]");
    wd.wait_for(".page-general", SLOW);
    let status = desk
        .command(bin("pushmail-settings"))
        .args(["--config", config.to_str().unwrap(), "--account", &id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("second pushmail-settings");
    assert!(status.success());
    wd.wait_for(".page-account-form [data-action=sign-in]", SLOW);
    assert_eq!(
        wd.script("return document.querySelector('.signin').hidden"),
        Value::Bool(false),
        "the sign-in action is shown"
    );
    assert!(wd.text("h1").contains("Carol"), "{}", wd.text("h1"));

    // Signing in again from there (what the tray's "Sign in to Carol again" leads to): a new
    // grant replaces the old one under the same id, and the test passes again.
    wd.click("[data-action=sign-in]");
    let again = handler
        .wait_url(2, URL_OPENED)
        .expect("the URL opened again");
    let outcome = oidc
        .user_agent(
            &again,
            &user,
            &UserAgentOptions {
                follow: true,
                ..UserAgentOptions::default()
            },
        )
        .expect("user agent");
    let followed = outcome.followed.clone().expect("redirect followed");
    assert!(followed.body.contains("close this tab"), "{followed:?}");
    eventually(
        SIGNED_IN_AND_TESTED,
        "the test after signing in again",
        || {
            let now = wd.script(statuses).as_str().unwrap_or_default().to_owned();
            assert!(!now.contains("=failed"), "a step failed: {now}");
            (!now.is_empty() && now.split(' ').all(|s| s.ends_with("=ok"))).then_some(())
        },
    );
    let renewed = desk
        .keyring_lookup(&format!("{id}:oauth2"))
        .expect("refresh token stored");
    assert_ne!(
        renewed, refresh,
        "the new grant's token replaced the old one"
    );
    assert_eq!(Config::load(&config).unwrap().accounts.len(), 1);

    wd.quit();
    // Nothing the window printed or wrote holds the refresh token (the keyring's own file is
    // encrypted).
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!output.contains(&refresh));
    assert!(!output.contains("panicked"), "{output}");
    let leaks = files_containing(desk.dir.path(), &refresh);
    assert!(leaks.is_empty(), "the refresh token is in {leaks:?}");
}

#[test]
fn started_with_account_id_the_window_opens_on_that_accounts_sign_in() {
    let desk = Desktop::start(Daemon::Dunst);
    let handler = UrlHandler::install().expect("test browser");
    let config = desk.dir.path().join("config/pushmail/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[[accounts]]\nid = \"home\"\nname = \"Home\"\nhost = \"imap.example.org\"\n\
         username = \"ana\"\n\n[[accounts]]\nid = \"gmail\"\nname = \"Gmail\"\n\
         email = \"ana@gmail.com\"\nhost = \"imap.gmail.com\"\nusername = \"ana@gmail.com\"\n\
         auth = \"oauth2\"\noauth_provider = \"google\"\noauth_client_id = \"test.apps.example\"\n",
    )
    .unwrap();
    let (app, _log) = wrapper(&desk, &handler, "settings");
    let wd = WebDriver::start(
        &desk,
        &app,
        &["--config", config.to_str().unwrap(), "--account", "gmail"],
    );
    wd.wait_for(".page-account-form", WINDOW_TIMEOUT);
    assert!(wd.text("h1").contains("Gmail"), "{}", wd.text("h1"));
    assert_eq!(wd.property("select[name=signin-method]", "value"), "google");
    assert!(
        plain(wd.text("[data-action=sign-in]")).contains("Sign in with Google"),
        "{}",
        wd.text("[data-action=sign-in]")
    );
    wd.quit();
}
