//! Talking to the mail server from the form: the step-by-step connection test (IMAP or POP3),
//! and the folder list for choosing what to watch (IMAP only).

use pushmail_core::account_test::{self, Step};
use pushmail_core::config::Config;
use pushmail_core::i18n::I18n;
use pushmail_core::{Account, PasswordSource, Protocol, folders, secret};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::error::UiError;
use crate::events::{self, Sink};
use crate::state::AppState;
use crate::view::AccountView;

/// Payload of [`events::PROBE_STEP`]: one finished step of test `run` (chosen by the UI so it
/// can ignore steps of a test it no longer shows).
#[derive(Clone, Debug, Serialize)]
pub struct StepEvent<'a> {
    pub run: u32,
    pub step: &'a Step,
}

/// The outcome of a test, for the form.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub ok: bool,
    pub steps: Vec<Step>,
    /// How the account will be watched, in words, in the window's language ("IDLE push: INBOX
    /// on one connection").
    pub strategy: String,
    /// The server's folders (with counts), to choose from right away.
    pub folders: Vec<FolderChoice>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderChoice {
    pub name: String,
    pub display: String,
    pub messages: Option<u32>,
    pub unseen: Option<u32>,
    pub watched: bool,
}

/// Runs every step of [`account_test::test_account`] on the form's values, emitting each step as it
/// finishes. A password typed in the form is used without replacing the stored one: it sits
/// in the keyring under a throw-away entry for the length of the test, because the core reads
/// passwords only from there or from `password_command`.
#[tauri::command]
pub async fn test_connection(
    app: AppHandle,
    state: State<'_, AppState>,
    run: u32,
    original_id: Option<String>,
    account: AccountView,
    password: Option<SecretString>,
) -> Result<TestReport, UiError> {
    test(&app, &state, run, original_id, account, password).await
}

/// The body of [`test_connection`].
pub async fn test(
    ui: &dyn Sink,
    state: &AppState,
    run: u32,
    original_id: Option<String>,
    account: AccountView,
    password: Option<SecretString>,
) -> Result<TestReport, UiError> {
    let password = password.filter(|p| !p.expose_secret().is_empty());
    // Steps, hints and the strategy in the window's language.
    let i18n = state.i18n();
    let base = match &original_id {
        Some(id) => state
            .load()?
            .account(id)
            .cloned()
            .ok_or_else(|| UiError::not_found(id))?,
        None => Account::new(account.id.trim(), "", ""),
    };
    let mut account = account.apply_to(base, state.config_dir())?;
    // The same rules as saving (host, port, plain only on loopback, …), checked before any
    // connection so the form says what to fix instead of a network error.
    Config {
        accounts: vec![account.clone()],
        ..Config::default()
    }
    .validate()
    .map_err(|e| UiError::unsaved(&e))?;

    let throwaway = match (&account.password, password) {
        (PasswordSource::Keyring, Some(password)) => {
            // Unique even across windows and parallel tests: pid, a counter, and a random part.
            let random = {
                use std::hash::{BuildHasher, Hasher};
                std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish()
            };
            let entry = format!(
                "settings-test-{}-{}-{random:016x}",
                std::process::id(),
                state.next_test()
            );
            secret::store_password(&entry, password)
                .await
                .map_err(|e| UiError::keyring(&e, &i18n))?;
            account.id = entry.clone();
            Some(entry)
        }
        (PasswordSource::Keyring, None) if original_id.is_none() => {
            return Err(UiError::invalid(
                "Enter the password to test the connection.",
            ));
        }
        _ => None,
    };

    let typed = throwaway.is_some();
    let report = account_test::test_account_in(&account, &i18n, |step| {
        let step = as_shown(step, typed, &i18n);
        match serde_json::to_value(StepEvent { run, step: &step }) {
            Ok(payload) => ui.send(events::PROBE_STEP, payload),
            Err(e) => tracing::debug!("cannot encode a test step: {e}"),
        }
    })
    .await;

    if let Some(entry) = throwaway
        && let Err(e) = secret::delete_password(&entry).await
    {
        tracing::warn!("cannot remove the test's keyring entry {entry}: {e}");
    }

    Ok(TestReport {
        ok: report.ok(),
        strategy: report.strategy.clone(),
        folders: report
            .folders
            .iter()
            .map(|f| FolderChoice {
                name: f.name.clone(),
                display: folders::display_name(&f.name),
                messages: f.messages,
                unseen: f.unseen,
                watched: f.watched,
            })
            .collect(),
        steps: report
            .steps
            .iter()
            .map(|s| as_shown(s, typed, &i18n))
            .collect(),
    })
}

/// The step as the user should read it: with a typed password, "found in the OS keyring"
/// would be misleading (it is only there for the test).
fn as_shown(step: &Step, typed_password: bool, i18n: &I18n) -> Step {
    if typed_password && step.step == "password" && step.ok {
        Step {
            detail: i18n.tr_plain("probe-password-typed", &[]),
            ..step.clone()
        }
    } else {
        step.clone()
    }
}

/// The saved account's folders as the server lists them.
#[tauri::command]
pub async fn list_folders(
    state: State<'_, AppState>,
    id: String,
) -> Result<Vec<folders::Folder>, UiError> {
    let config = state.load()?;
    let account = config.account(&id).ok_or_else(|| UiError::not_found(&id))?;
    if account.protocol == Protocol::Pop3 {
        // The folder list speaks IMAP; a POP3 server would only answer it with an error.
        return Err(UiError::invalid(
            "A POP3 account has a single mailbox and no folders to choose. To watch several folders, use IMAP for this account.",
        ));
    }
    folders::list(account)
        .await
        .map_err(|e| UiError::connect(&e, &state.i18n()))
}
