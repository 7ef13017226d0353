//! Desktop integration: "start at login".

use pushmail_core::desktop;

use crate::error::{ErrorKind, UiError};

/// Turns the tray's XDG autostart entry on or off; returns the state now on disk.
#[tauri::command]
pub async fn set_autostart(enabled: bool) -> Result<bool, UiError> {
    desktop::set_autostart(enabled).map_err(|e| {
        UiError::new(
            ErrorKind::Io,
            format!(
                "Cannot change the autostart entry: {e}. Check that ~/.config/autostart is writable."
            ),
        )
    })?;
    Ok(desktop::autostart_enabled())
}
