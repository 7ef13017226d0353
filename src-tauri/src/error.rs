//! The one error type every command returns.
//!
//! It reaches the UI as `{kind, message}`: `kind` is a fixed snake_case word the UI branches on
//! (show the message next to the form, offer to start the tray, …); `message` is a sentence for
//! the user that says what happened and what to do. Debug formatting never reaches the UI.

use pushmail_core::ConnectError;
use pushmail_core::config::ConfigError;
use pushmail_core::i18n::I18n;
use pushmail_core::secret::SecretError;
use serde::Serialize;

/// What kind of failure, for the UI to branch on. Serialised in snake_case; the TypeScript
/// twin is `ErrorKind` in `ui/src/ipc.ts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A value breaks a configuration rule or the form is incomplete; fix the form.
    Invalid,
    /// The configuration file cannot be read or parsed; it has to be fixed by hand first (the
    /// window never overwrites a file it could not understand).
    ConfigUnreadable,
    /// The configuration could not be written.
    ConfigWrite,
    /// No account with that id (it was removed meanwhile, e.g. by `pushmail-cli`).
    NotFound,
    /// The OS keyring failed (absent, locked, refused).
    Keyring,
    /// The IMAP server could not be reached or refused us (folder list).
    Connect,
    /// The tray (`pushmail`) does not own its D-Bus name: it is not running.
    TrayNotRunning,
    /// The tray is running but the call failed, or there is no session bus at all.
    Tray,
    /// Starting the tray failed (not installed, exited at once).
    Spawn,
    /// A local operation failed (autostart entry, …).
    Io,
    /// A sign-in at the account's provider did not end with a stored grant (denied, timed
    /// out, cancelled, no client id, the organisation's approval missing…).
    SignIn,
}

/// A failed command, as the UI receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct UiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl UiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> UiError {
        UiError {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> UiError {
        UiError::new(ErrorKind::Invalid, message)
    }

    pub fn not_found(id: &str) -> UiError {
        UiError::new(
            ErrorKind::NotFound,
            format!(
                "There is no account `{id}` any more; it may have been removed from the configuration file meanwhile."
            ),
        )
    }

    /// A configuration that could not be loaded (as opposed to one we refused to save).
    /// (The UI adds what to do: fix or move the file, then reopen Settings.)
    pub fn unreadable(err: &ConfigError) -> UiError {
        UiError::new(ErrorKind::ConfigUnreadable, chain(err))
    }

    /// A configuration we refused to write (invalid) or could not write (I/O).
    pub fn unsaved(err: &ConfigError) -> UiError {
        match err {
            ConfigError::Invalid { .. } | ConfigError::Parse { .. } => {
                UiError::invalid(err.to_string())
            }
            ConfigError::Io { .. } => UiError::new(
                ErrorKind::ConfigWrite,
                format!(
                    "{}. Nothing was changed; check the folder's permissions and free space.",
                    chain(err)
                ),
            ),
        }
    }

    /// A keyring failure and what to do, in the window's language ([`AppState::i18n`]).
    ///
    /// [`AppState::i18n`]: crate::state::AppState::i18n
    pub fn keyring(err: &SecretError, i18n: &I18n) -> UiError {
        UiError::new(
            ErrorKind::Keyring,
            format!("{}. {}", err.message_in(i18n), err.hint_in(i18n)),
        )
    }

    /// A connection failure and what to do, in the window's language; a password that could
    /// not be obtained is a keyring problem.
    pub fn connect(err: &ConnectError, i18n: &I18n) -> UiError {
        match err {
            ConnectError::Secret(secret) => UiError::keyring(secret, i18n),
            other => UiError::new(
                ErrorKind::Connect,
                format!("{}. {}", other.message_in(i18n), other.hint_in(i18n)),
            ),
        }
    }

    /// The same error with a sentence in front that says what did succeed.
    pub fn prefixed(mut self, context: &str) -> UiError {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

/// The error with its sources, as `a: b: c` (core's, shared with the sign-in and discovery).
pub use pushmail_core::error::chain;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn serialises_as_kind_and_message_only() {
        let err = UiError::new(ErrorKind::TrayNotRunning, "Pushmail is not running.");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"kind": "tray_not_running", "message": "Pushmail is not running."})
        );
    }

    #[test]
    fn io_errors_name_the_file_and_the_reason() {
        let err = ConfigError::Io {
            path: "/x/config.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        };
        let ui = UiError::unsaved(&err);
        assert_eq!(ui.kind, ErrorKind::ConfigWrite);
        assert!(
            ui.message
                .starts_with("cannot access /x/config.toml: denied."),
            "{}",
            ui.message
        );
        assert_eq!(UiError::unreadable(&err).kind, ErrorKind::ConfigUnreadable);
    }
}
