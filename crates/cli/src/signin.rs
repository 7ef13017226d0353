//! `pushmail-cli account login ID`: the OAuth2 sign-in of an account (`auth = "oauth2"`) from a
//! terminal, the way the Settings window does it: the provider's page in the desktop's own
//! browser (`xdg-open`, when there is a desktop), the address always printed (SSH, headless, a
//! browser on another profile), a stated wait for the redirect to the loopback listener, the
//! refresh token into the OS keyring, and a running tray told to reload so an account that
//! waited in `signin_required` starts again.
//!
//! The protocol is the core's ([`pushmail_core::oauth::SignIn`]); this file only prints,
//! opens and maps failures to lines in the reader's language.

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use pushmail_core::config::OAuthSettings;
use pushmail_core::error::ConnectError;
use pushmail_core::i18n::{I18n, num, text};
use pushmail_core::oauth::{self, OAuthError, RedirectPage, SignIn, TokenClient};
use pushmail_core::{Account, PasswordSource};

/// The program that opens a URL in the desktop's preferred browser (freedesktop xdg-utils).
const OPENER: &str = "xdg-open";

/// Why a sign-in did not end with a stored grant: one line to print (already in the reader's
/// language) and, if there is one, what to do.
#[derive(Debug)]
pub struct Failed {
    pub message: String,
    pub hint: Option<String>,
}

impl Failed {
    /// Prints the failure the way the CLI prints errors and gives its exit status.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {}", self.message);
        if let Some(h) = &self.hint {
            eprintln!("  → {h}");
        }
        ExitCode::FAILURE
    }
}

/// The account's sign-in settings, or why it has none.
pub fn settings<'a>(i18n: &I18n, account: &'a Account) -> Result<&'a OAuthSettings, Failed> {
    match &account.password {
        PasswordSource::OAuth2(s) => Ok(s),
        _ => Err(Failed {
            message: i18n.tr_plain("cli-signin-not-oauth", &[("id", text(&account.id))]),
            hint: None,
        }),
    }
}

/// Whether there is a desktop whose browser `xdg-open` can reach.
fn has_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// A [`ConnectError`] (provider settings, keyring, token endpoint) as a failure line.
fn connect_failed(i18n: &I18n, e: &ConnectError) -> Failed {
    Failed {
        message: e.message_in(i18n),
        hint: Some(e.hint_in(i18n)).filter(|h| !h.is_empty()),
    }
}

/// An [`OAuthError`] of the browser part, in the reader's language; the token endpoint's
/// problems go through [`ConnectError`]'s catalog messages.
fn oauth_failed(i18n: &I18n, id: &str, provider: &str, e: OAuthError) -> Failed {
    match e.browser_message_in(i18n) {
        Some(message) => Failed {
            message,
            hint: Some(i18n.tr_plain("cli-signin-again", &[("id", text(id))])),
        },
        None => connect_failed(i18n, &ConnectError::from((provider, e))),
    }
}

/// Signs `account` in: listener, URL (printed, and opened when there is a desktop), wait up
/// to `timeout`, then the refresh token into the keyring. Nothing is stored on any failure.
pub async fn sign_in(i18n: &I18n, account: &Account, timeout: Duration) -> Result<(), Failed> {
    let settings = settings(i18n, account)?;
    let provider = oauth::account::provider(account, settings).map_err(|e| {
        // No client id is the one a user meets first (a build without one): say what to do.
        connect_failed(i18n, &e)
    })?;
    let http = oauth::account::http_client(account).map_err(|e| connect_failed(i18n, &e))?;
    let options = oauth::account::authorization_options(account, settings, &provider);
    let provider_word = settings.provider.clone();
    let signin = SignIn::start(provider, &options)
        .await
        .map_err(|e| oauth_failed(i18n, &account.id, &provider_word, e))?;

    println!(
        "{}",
        i18n.tr_plain("cli-signin-open", &[("url", text(signin.url().as_str()))])
    );
    let mut opener = None;
    if has_desktop() {
        match tokio::process::Command::new(OPENER)
            .arg(signin.url().as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => opener = Some(child),
            Err(_) => eprintln!("{}", i18n.tr_plain("cli-signin-no-browser", &[])),
        }
    }
    let secs = timeout.as_secs();
    println!(
        "{}",
        if secs >= 60 && secs.is_multiple_of(60) {
            i18n.tr_plain(
                "cli-signin-waiting-minutes",
                &[("minutes", num((secs / 60) as f64))],
            )
        } else {
            i18n.tr_plain(
                "cli-signin-waiting-seconds",
                &[("seconds", num(secs as f64))],
            )
        }
    );

    let client = TokenClient::new(http);
    let page = RedirectPage::translated(i18n);
    let finish = signin.finish(&client, &page, timeout);
    tokio::pin!(finish);
    let tokens = loop {
        tokio::select! {
            result = &mut finish => break result,
            // The opener's outcome only changes what is said: the address is on the screen.
            status = async { opener.as_mut()?.wait().await.ok() }, if opener.is_some() => {
                opener = None;
                if !status.is_some_and(|s| s.success()) {
                    eprintln!("{}", i18n.tr_plain("cli-signin-no-browser", &[]));
                }
            }
        }
    };
    // A browser that xdg-open started and still waits for is left running: it is the user's.
    drop(opener);
    let tokens = tokens.map_err(|e| oauth_failed(i18n, &account.id, &provider_word, e))?;
    if tokens.refresh.is_none() {
        return Err(Failed {
            message: i18n.tr_plain("cli-signin-no-refresh-token", &[]),
            hint: Some(i18n.tr_plain("cli-signin-no-refresh-token-hint", &[])),
        });
    }
    oauth::account::signed_in(account, tokens)
        .await
        .map_err(|e| connect_failed(i18n, &e))
}

/// `account login ID`: sign in, tell a running tray, say so.
pub async fn login(i18n: &I18n, account: &Account, timeout: Duration) -> ExitCode {
    if let Err(f) = sign_in(i18n, account, timeout).await {
        return f.report();
    }
    let provider = match &account.password {
        PasswordSource::OAuth2(s) => s.provider.clone(),
        _ => String::new(),
    };
    println!(
        "{}",
        i18n.tr_plain(
            "cli-signin-done",
            &[("id", text(&account.id)), ("provider", text(&provider))]
        )
    );
    match crate::status::reload_running_tray().await {
        Ok(true) => println!("{}", i18n.tr_plain("cli-signin-tray-reloaded", &[])),
        Ok(false) => {}
        // Stored all the same: the tray picks the sign-in up at its next start or reload.
        Err(e) => eprintln!(
            "{}",
            i18n.tr_plain(
                "cli-signin-tray-not-told",
                &[("reason", text(&e.to_string()))]
            )
        ),
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: &str) -> OAuthSettings {
        OAuthSettings {
            provider: provider.into(),
            ..OAuthSettings::default()
        }
    }

    #[test]
    fn consent_is_asked_only_of_custom_openid_servers_that_want_offline_access() {
        use pushmail_core::oauth::Provider;
        let account = Account::new("a", "imap.example.com", "ana@example.com");
        let asks = |name: &str, p: &Provider| {
            let options = oauth::account::authorization_options(&account, &settings(name), p);
            assert_eq!(options.login_hint.as_deref(), Some("ana@example.com"));
            options.prompt_consent
        };
        let google = Provider::builtin("google").expect("google");
        assert!(!asks("google", &google));
        let microsoft = Provider::builtin("microsoft").expect("microsoft");
        assert!(!asks("microsoft", &microsoft));
        let mut custom = google.clone();
        custom.scopes = vec!["openid".into(), "offline_access".into(), "imap".into()];
        assert!(asks("custom", &custom));
        custom.scopes = vec!["imap".into()];
        assert!(!asks("custom", &custom));
    }

    #[test]
    fn every_failure_line_exists_in_english() {
        let i18n = I18n::new("en");
        for id in [
            "cli-signin-open",
            "cli-signin-waiting-minutes",
            "cli-signin-waiting-seconds",
            "cli-signin-no-browser",
            "cli-signin-done",
            "cli-signin-denied",
            "cli-signin-wrong-state",
            "cli-signin-timed-out",
            "cli-signin-no-refresh-token",
            "cli-signin-page-success",
        ] {
            assert!(i18n.has(id), "{id}");
        }
        let f = oauth_failed(
            &i18n,
            "work",
            "custom",
            OAuthError::TimedOut {
                after: Duration::from_secs(300),
            },
        );
        assert!(f.message.contains("300"), "{}", f.message);
    }
}
