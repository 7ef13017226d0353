//! The configuration as a whole: read it, save the General and Notifications pages.

use pushmail_core::{desktop, i18n};
use tauri::{AppHandle, State, WebviewWindow};

use crate::error::UiError;
use crate::state::AppState;
use crate::tray_client::ReloadOutcome;
use crate::view::{
    AccountView, GeneralView, NotificationRules, NotificationsView, SettingsView, knobs,
};

/// Everything the window shows, read fresh from the file.
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<SettingsView, UiError> {
    let config = state.load()?;
    Ok(SettingsView {
        config_path: state.config_path().display().to_string(),
        accounts: config
            .accounts
            .iter()
            .map(AccountView::from_account)
            .collect(),
        general: GeneralView::from_general(&config.general),
        notifications: NotificationsView::from_notifications(&config.notifications),
        knobs: knobs(),
        system_language: i18n::system_language(),
        autostart: desktop::autostart_enabled(),
    })
}

/// Saves the General page (language, mail client). The window title follows the language at
/// once, like the rest of the UI.
#[tauri::command]
pub async fn save_general(
    app: AppHandle,
    window: WebviewWindow,
    state: State<'_, AppState>,
    general: GeneralView,
) -> Result<ReloadOutcome, UiError> {
    let general = general.to_general()?;
    let language = general.language;
    let ((), outcome) = state
        .edit(&app, |config| {
            config.general = general;
            Ok(())
        })
        .await?;
    let _ = window.set_title(&crate::window_title(language));
    Ok(outcome)
}

/// Saves the Notifications page in one write: the global rules and each account's mute and
/// preview. Accounts not in `rules.accounts` keep theirs; an unknown id is refused (the
/// account was removed meanwhile).
#[tauri::command]
pub async fn save_notification_rules(
    app: AppHandle,
    state: State<'_, AppState>,
    rules: NotificationRules,
) -> Result<ReloadOutcome, UiError> {
    let ((), outcome) = state
        .edit(&app, |config| {
            let base = std::mem::take(&mut config.notifications);
            config.notifications = rules.notifications.apply_to(base)?;
            for rule in &rules.accounts {
                let account = config
                    .accounts
                    .iter_mut()
                    .find(|a| a.id == rule.id)
                    .ok_or_else(|| UiError::not_found(&rule.id))?;
                account.mute = rule.mute;
                account.preview = rule.preview;
            }
            Ok(())
        })
        .await?;
    Ok(outcome)
}
