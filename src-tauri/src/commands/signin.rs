//! Signing an account in at its provider (OAuth2, `auth = "oauth2"`) from the form, the way
//! `pushmail-cli account login` does it: the provider's page in the desktop's own browser
//! (`xdg-open`, never a web view of ours: providers block embedded sign-in, and the user's
//! browser has their session and password manager), the address shown with a Copy button
//! ([`events::SIGNIN_URL`]) for a browser on another profile, a wait of
//! [`oauth::DEFAULT_SIGNIN_TIMEOUT`] for the redirect, cancellable by leaving the form.
//!
//! Order: the account is checked as the form describes it (the same rules as saving) before
//! the browser opens; after the redirect the refresh token goes to the keyring under the
//! account's id, then the account is written, so the tray never sees an OAuth account without
//! its grant. A failed write of a new account removes the token again. The protocol is the
//! core's ([`SignIn`]); this file only opens, waits and says what went wrong.

use std::process::Stdio;

use pushmail_core::config::OAuthSettings;
use pushmail_core::i18n::{I18n, text};
use pushmail_core::oauth::{self, OAuthError, Provider, RedirectPage, SignIn, TokenClient};
use pushmail_core::{Account, ConnectError, PasswordSource, secret};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::error::{ErrorKind, UiError};
use crate::events::{self, Sink};
use crate::state::{AppState, ShownAccount};
use crate::tray_client::ReloadOutcome;
use crate::view::AccountView;

/// The program that opens a URL in the desktop's preferred browser (freedesktop xdg-utils).
const OPENER: &str = "xdg-open";

/// Payload of [`events::SIGNIN_URL`].
#[derive(Clone, Debug, Serialize)]
pub struct UrlEvent<'a> {
    pub run: u32,
    pub url: &'a str,
}

/// Signs the form's account in and saves it (`original_id` = `None`: a new account). Emits
/// [`events::SIGNIN_URL`] as soon as the browser is asked to open the page; resolves when the
/// grant is stored and the account written, or with a translated error saying what to do.
#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    run: u32,
    original_id: Option<String>,
    account: AccountView,
) -> Result<ReloadOutcome, UiError> {
    run_sign_in(&app, &state, run, original_id, account, open_in_browser).await
}

/// Ends a waiting sign-in (the form was left): its listener closes, nothing is stored.
#[tauri::command]
pub fn cancel_sign_in(state: State<'_, AppState>) {
    state.cancel_sign_in();
}

/// The built-in provider an address belongs to, with its IMAP server: the form preselects
/// "Sign in with …" and fills the server from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub provider: String,
    pub imap_host: String,
    pub imap_port: u16,
}

/// [`Suggestion`] for `address`, or `None` for a domain no built-in provider serves.
#[tauri::command]
pub fn provider_for_address(address: String) -> Option<Suggestion> {
    Provider::for_address(address.trim()).map(|p| Suggestion {
        provider: p.name,
        imap_host: p.imap_host,
        imap_port: p.imap_port,
    })
}

/// The account `--account ID` or `ShowAccount` asked for, once.
#[tauri::command]
pub fn take_shown_account(shown: State<'_, ShownAccount>) -> Option<String> {
    shown.take()
}

/// Asks the desktop to open `url`; whether it worked only changes what the user reads (the
/// address is on the screen either way), so the opener runs detached and is awaited off the
/// command's path by the caller's select loop.
fn open_in_browser(url: &str) -> Option<tokio::process::Child> {
    tokio::process::Command::new(OPENER)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .inspect_err(|e| tracing::info!("cannot run {OPENER}: {e}"))
        .ok()
}

/// The body of [`sign_in`]; `open` is the browser opener (a recorder in tests).
pub async fn run_sign_in(
    ui: &dyn Sink,
    state: &AppState,
    run: u32,
    original_id: Option<String>,
    form: AccountView,
    open: fn(&str) -> Option<tokio::process::Child>,
) -> Result<ReloadOutcome, UiError> {
    let i18n = state.i18n();
    // Checked as it will be saved, before any browser opens.
    let account = checked(state, &original_id, &form)?;
    let settings = match &account.password {
        PasswordSource::OAuth2(s) => (**s).clone(),
        _ => {
            return Err(UiError::invalid(
                i18n.tr_plain("cli-signin-not-oauth", &[("id", text(&account.id))]),
            ));
        }
    };
    let provider =
        oauth::account::provider(&account, &settings).map_err(|e| connect_failed(&i18n, &e))?;
    let http = oauth::account::http_client(&account).map_err(|e| connect_failed(&i18n, &e))?;
    let options = oauth::account::authorization_options(&account, &settings, &provider);
    let cancel = state.begin_sign_in();
    let signin = SignIn::start(provider, &options)
        .await
        .map_err(|e| oauth_failed(&i18n, &settings, e))?;

    let url = signin.url().as_str().to_owned();
    match serde_json::to_value(UrlEvent { run, url: &url }) {
        Ok(payload) => ui.send(events::SIGNIN_URL, payload),
        Err(e) => tracing::debug!("cannot encode the sign-in address: {e}"),
    }
    let mut opener = open(&url);

    let client = TokenClient::new(http);
    let page = RedirectPage::translated(&i18n);
    let finish = signin.finish(&client, &page, oauth::DEFAULT_SIGNIN_TIMEOUT);
    tokio::pin!(finish);
    let tokens = loop {
        tokio::select! {
            result = &mut finish => break result,
            () = cancel.cancelled() => {
                return Err(UiError::new(
                    ErrorKind::SignIn,
                    i18n.tr_plain("settings-signin-cancelled", &[]),
                ));
            }
            // Reaped so it leaves no zombie; a browser it started is the user's and stays.
            _ = async { opener.as_mut()?.wait().await.ok() }, if opener.is_some() => {
                opener = None;
            }
        }
    };
    let tokens = tokens.map_err(|e| oauth_failed(&i18n, &settings, e))?;
    if tokens.refresh.is_none() {
        return Err(UiError::new(
            ErrorKind::SignIn,
            format!(
                "{} {}",
                i18n.tr_plain("cli-signin-no-refresh-token", &[]),
                i18n.tr_plain("cli-signin-no-refresh-token-hint", &[])
            ),
        ));
    }

    // Stored, then saved: under the write lock, from the file as it is now.
    let _guard = state.lock().await;
    let (config, index, account) = placed(state, &original_id, &form)?;
    let id = account.id.clone();
    let had_grant = secret::refresh_token(&id).await.is_ok();
    oauth::account::signed_in(&account, tokens)
        .await
        .map_err(|e| connect_failed(&i18n, &e))?;
    if let Err(e) = config.save(state.config_path()) {
        if index.is_none() && !had_grant {
            // Best effort: the error the user sees is the write failure.
            let _ = secret::delete_refresh_token(&id).await;
        }
        return Err(UiError::unsaved(&e));
    }
    Ok(state.saved(ui).await)
}

/// The form's account, validated in the configuration it would be saved into.
fn checked(
    state: &AppState,
    original_id: &Option<String>,
    form: &AccountView,
) -> Result<Account, UiError> {
    placed(state, original_id, form).map(|(_, _, account)| account)
}

/// The configuration with the form's account in place, where it went (`None` = appended), and
/// the account itself, with the same rules as `save_account` (an id cannot change, a new id must
/// be free, the whole file must stay valid).
fn placed(
    state: &AppState,
    original_id: &Option<String>,
    form: &AccountView,
) -> Result<(pushmail_core::Config, Option<usize>, Account), UiError> {
    let mut config = state.load()?;
    let id = form.id.trim().to_owned();
    let (index, base) =
        super::accounts::place(&config, original_id.as_deref(), &id, &state.i18n())?;
    let account = form.apply_to(base, state.config_dir())?;
    match index {
        Some(i) => config.accounts[i] = account.clone(),
        None => config.accounts.push(account.clone()),
    }
    config.validate().map_err(|e| UiError::unsaved(&e))?;
    Ok((config, index, account))
}

/// Provider settings, keyring and token endpoint problems: the core's catalog messages with
/// their hints (no client id, admin approval, client id refused…).
fn connect_failed(i18n: &I18n, e: &ConnectError) -> UiError {
    match e {
        ConnectError::Secret(s) => UiError::keyring(s, i18n),
        other => UiError::new(
            ErrorKind::SignIn,
            [other.message_in(i18n), other.hint_in(i18n)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(". "),
        ),
    }
}

/// The browser part's failures, in the window's language, with what to do.
fn oauth_failed(i18n: &I18n, settings: &OAuthSettings, e: OAuthError) -> UiError {
    match e.browser_message_in(i18n) {
        Some(message) => UiError::new(
            ErrorKind::SignIn,
            format!("{message} {}", i18n.tr_plain("settings-signin-again", &[])),
        ),
        None => connect_failed(i18n, &ConnectError::from((settings.provider.as_str(), e))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn addresses_preselect_their_provider() {
        let google = provider_for_address("ana@gmail.com".into()).unwrap();
        assert_eq!(google.provider, "google");
        assert_eq!(google.imap_host, "imap.gmail.com");
        assert_eq!(
            provider_for_address(" ana@outlook.com ".into())
                .unwrap()
                .provider,
            "microsoft"
        );
        assert_eq!(provider_for_address("ana@example.org".into()), None);
        assert_eq!(provider_for_address("no address".into()), None);
    }

    #[test]
    fn failures_are_translated_and_say_what_to_do() {
        let i18n = I18n::new("en");
        let settings = OAuthSettings {
            provider: "custom".into(),
            ..OAuthSettings::default()
        };
        let denied = oauth_failed(
            &i18n,
            &settings,
            OAuthError::Redirect {
                problem: pushmail_core::oauth::RedirectProblem::AccessDenied,
                words: None,
            },
        );
        assert_eq!(denied.kind, ErrorKind::SignIn);
        assert!(denied.message.contains("denied"), "{}", denied.message);
        assert!(denied.message.contains("Sign in"), "{}", denied.message);
        let late = oauth_failed(
            &i18n,
            &settings,
            OAuthError::TimedOut {
                after: oauth::DEFAULT_SIGNIN_TIMEOUT,
            },
        );
        assert!(late.message.contains("300"), "{}", late.message);
        let admin = oauth_failed(
            &i18n,
            &settings,
            OAuthError::AdminApprovalRequired { words: None },
        );
        assert!(admin.message.contains("administrator"), "{}", admin.message);
        let no_client = oauth_failed(
            &i18n,
            &settings,
            OAuthError::NoClientId {
                provider: "google".into(),
            },
        );
        assert!(
            no_client.message.contains("client id"),
            "{}",
            no_client.message
        );
        for id in ["settings-signin-again", "settings-signin-cancelled"] {
            for lang in ["en", "it", "ar", "zh-CN", "zh-TW"] {
                assert!(I18n::new(lang).has(id), "{lang}: {id}");
            }
        }
    }
}
