//! Adding, editing and removing accounts, and choosing their folders.
//!
//! Passwords travel one way only: from the form into the OS keyring. They are never read
//! back, never written to the configuration file, and never logged (`SecretString`).

use pushmail_core::{Account, PasswordSource, secret};
use secrecy::{ExposeSecret, SecretString};
use tauri::{AppHandle, State};

use crate::error::UiError;
use crate::events::Sink;
use crate::state::AppState;
use crate::tray_client::ReloadOutcome;
use crate::view::AccountView;

/// Adds an account (`original_id` = `None`) or updates one. A typed `password` goes to the
/// keyring under the account id; an empty or absent one keeps the stored password. A new
/// keyring account needs one.
///
/// Order matters: the whole configuration is validated before anything is stored, the
/// password is stored before the file is written (so the tray never sees an account without
/// its password), and a new account's password is removed again if the write fails.
#[tauri::command]
pub async fn save_account(
    app: AppHandle,
    state: State<'_, AppState>,
    original_id: Option<String>,
    account: AccountView,
    password: Option<SecretString>,
) -> Result<ReloadOutcome, UiError> {
    save(&app, &state, original_id, account, password).await
}

/// The body of [`save_account`].
pub async fn save(
    ui: &dyn Sink,
    state: &AppState,
    original_id: Option<String>,
    account: AccountView,
    password: Option<SecretString>,
) -> Result<ReloadOutcome, UiError> {
    let password = password.filter(|p| !p.expose_secret().is_empty());
    let _guard = state.lock().await;
    let mut config = state.load()?;
    let id = account.id.trim().to_owned();

    let (index, base) = place(&config, original_id.as_deref(), &id, &state.i18n())?;
    let previous_source = index.map(|i| config.accounts[i].password.clone());
    let updated = account.apply_to(base, state.config_dir())?;
    let uses_keyring = updated.password == PasswordSource::Keyring;
    if index.is_none() && uses_keyring && password.is_none() {
        return Err(UiError::invalid(
            "Enter the account's password. It is kept in your OS keyring, never in the configuration file.",
        ));
    }
    match index {
        Some(i) => config.accounts[i] = updated,
        None => config.accounts.push(updated),
    }
    config.validate().map_err(|e| UiError::unsaved(&e))?;

    let stored = match password {
        Some(password) if uses_keyring => {
            secret::store_password(&id, password)
                .await
                .map_err(|e| UiError::keyring(&e, &state.i18n()))?;
            true
        }
        _ => false,
    };
    if let Err(e) = config.save(state.config_path()) {
        if stored && index.is_none() {
            // Best effort: the error the user sees is the write failure.
            let _ = secret::delete_password(&id).await;
        }
        return Err(UiError::unsaved(&e));
    }
    // Switched from the keyring to a password command: the stored password is now unused,
    // and an unused secret should not linger.
    if previous_source == Some(PasswordSource::Keyring)
        && !uses_keyring
        && let Err(e) = secret::delete_password(&id).await
    {
        tracing::warn!("cannot remove the unused keyring entry of {id}: {e}");
    }
    Ok(state.saved(ui).await)
}

/// Removes an account from the configuration, then its password from the keyring.
#[tauri::command]
pub async fn remove_account(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<ReloadOutcome, UiError> {
    remove(&app, &state, id).await
}

/// The body of [`remove_account`].
pub async fn remove(ui: &dyn Sink, state: &AppState, id: String) -> Result<ReloadOutcome, UiError> {
    let _guard = state.lock().await;
    let mut config = state.load()?;
    let index = config
        .accounts
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| UiError::not_found(&id))?;
    let removed = config.accounts.remove(index);
    let outcome = state.save(ui, &config).await?;
    match secret::delete_password(&id).await {
        Ok(()) => Ok(outcome),
        // An account that used a password command may never have had an entry, and then a
        // missing keyring is no reason to worry the user.
        Err(_) if removed.password != PasswordSource::Keyring => Ok(outcome),
        Err(e) => Err(UiError::keyring(&e, &state.i18n()).prefixed(
            "The account was removed, but its password could not be deleted from the keyring",
        )),
    }
}

/// Sets the folders an account watches (names exactly as the server lists them).
#[tauri::command]
pub async fn save_folders(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    folders: Vec<String>,
) -> Result<ReloadOutcome, UiError> {
    let ((), outcome) = state
        .edit(&app, |config| {
            let account = config
                .accounts
                .iter_mut()
                .find(|a| a.id == id)
                .ok_or_else(|| UiError::not_found(&id))?;
            if folders.is_empty() {
                return Err(UiError::invalid(
                    "Choose at least one folder to watch, or turn the account off instead.",
                ));
            }
            account.folders = folders;
            Ok(())
        })
        .await?;
    Ok(outcome)
}

/// Where the form's account goes in `config`: the index of the account it edits (`original`,
/// whose id cannot change: it names the account's password or sign-in in the keyring) with
/// that account as the base, or a new one (`None`) under an id that must be free. The one rule
/// for saving and for signing in before saving.
pub(super) fn place(
    config: &pushmail_core::Config,
    original: Option<&str>,
    id: &str,
    i18n: &pushmail_core::i18n::I18n,
) -> Result<(Option<usize>, Account), UiError> {
    match original {
        Some(original) => {
            let index = config
                .accounts
                .iter()
                .position(|a| a.id == original)
                .ok_or_else(|| UiError::not_found(original))?;
            if id != original {
                return Err(UiError::invalid(
                    "The account id cannot be changed: it names the account's password or sign-in in the keyring. Remove the account and add it again under the new id.",
                ));
            }
            Ok((Some(index), config.accounts[index].clone()))
        }
        None => {
            if let Err(taken) = config.check_new_id(id) {
                return Err(UiError::invalid(taken.message_in(i18n)));
            }
            Ok((None, Account::new(id, "", "")))
        }
    }
}
