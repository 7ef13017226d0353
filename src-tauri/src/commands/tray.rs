//! Live state from the tray process, and starting it.

use tauri::State;

use crate::error::UiError;
use crate::state::AppState;
use crate::tray_client::{Activity, LiveAccount};

/// Each account's state and unread count right now (`GetAccounts`).
#[tauri::command]
pub async fn tray_accounts(state: State<'_, AppState>) -> Result<Vec<LiveAccount>, UiError> {
    state.tray.accounts().await
}

/// The last notifications and each account's last error (`GetActivity`).
#[tauri::command]
pub async fn tray_activity(state: State<'_, AppState>) -> Result<Activity, UiError> {
    state.tray.activity().await
}

/// Starts `pushmail` with this window's configuration file, if it is not running.
#[tauri::command]
pub async fn start_tray(state: State<'_, AppState>) -> Result<(), UiError> {
    state.tray.start(state.config_path()).await
}

/// Looks for new mail now (`CheckNow`); `""` = every account.
#[tauri::command]
pub async fn check_now(state: State<'_, AppState>, account: String) -> Result<(), UiError> {
    state.tray.check_now(&account).await
}

/// Opens one message of Activity as "Open" on its popup would (`OpenMessage`): `message_id`
/// as `GetActivity` gave it, `""` when it gave none (the account's usual target opens).
#[tauri::command]
pub async fn open_message(
    state: State<'_, AppState>,
    account: String,
    message_id: String,
) -> Result<(), UiError> {
    state.tray.open_message(&account, &message_id).await
}
