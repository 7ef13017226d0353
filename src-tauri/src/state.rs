//! What the shell owns while the window is open: the path of the configuration file, the lock
//! that serialises writes to it, and the bridge to the tray.
//!
//! Rust owns the state; the UI only mirrors it. Every command that changes the configuration
//! re-reads the file under [`AppState::write_lock`], applies its one change, validates, writes
//! atomically, then tells the tray ([`Tray::reload`]) and the UI ([`events::SETTINGS_UPDATED`]).
//! Re-reading instead of caching means an edit made meanwhile with `pushmail-cli` is not
//! silently overwritten by a stale copy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use pushmail_core::Config;
use pushmail_core::i18n::I18n;
use tokio::sync::{Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;

use crate::error::UiError;
use crate::events::{self, Sink};
use crate::tray_client::{ReloadOutcome, Tray};

pub struct AppState {
    config_path: PathBuf,
    /// Held from reading the file to writing it, so two saves from the window (a double
    /// click, two pages) cannot interleave and lose one change.
    write_lock: Mutex<()>,
    pub tray: Tray,
    /// Makes keyring entries of connection tests unique (`commands::account_test`).
    test_counter: AtomicU64,
    /// The running sign-in's cancellation (`commands::signin`): one at a time, cancelled by
    /// a newer one or when the form is left.
    signin: std::sync::Mutex<Option<CancellationToken>>,
}

impl AppState {
    pub fn new(config_path: PathBuf, tray: Tray) -> AppState {
        AppState {
            config_path,
            write_lock: Mutex::new(()),
            tray,
            test_counter: AtomicU64::new(0),
            signin: std::sync::Mutex::new(None),
        }
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The directory relative `ca_file` paths are resolved against, as when loading the file.
    pub fn config_dir(&self) -> &Path {
        self.config_path.parent().unwrap_or(Path::new("/"))
    }

    /// Reads and validates the file (a missing file is an empty configuration: first run).
    pub fn load(&self) -> Result<Config, UiError> {
        Config::load(&self.config_path).map_err(|e| UiError::unreadable(&e))
    }

    /// The window's language: the configuration's `[general] language` ("auto" = the system's,
    /// as the UI resolves it from `system_language`), for texts the shell writes (connection
    /// test steps, error messages). A file that does not load means "auto".
    pub fn i18n(&self) -> I18n {
        let language = Config::load(&self.config_path)
            .map(|c| c.general.language)
            .unwrap_or_default();
        I18n::new(language.as_str())
    }

    /// Takes the write lock; hold it from [`AppState::load`] to [`AppState::save`].
    pub async fn lock(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().await
    }

    /// Validates and writes atomically (the core refuses an invalid config before touching
    /// the file), then reloads the tray and tells the UI.
    pub async fn save(&self, ui: &dyn Sink, config: &Config) -> Result<ReloadOutcome, UiError> {
        config
            .save(&self.config_path)
            .map_err(|e| UiError::unsaved(&e))?;
        Ok(self.saved(ui).await)
    }

    /// What follows every successful write.
    pub async fn saved(&self, ui: &dyn Sink) -> ReloadOutcome {
        let outcome = self.tray.reload().await;
        ui.send(events::SETTINGS_UPDATED, serde_json::Value::Null);
        outcome
    }

    /// Loads, applies `change`, saves: the shape of every simple settings command.
    pub async fn edit<T>(
        &self,
        ui: &dyn Sink,
        change: impl FnOnce(&mut Config) -> Result<T, UiError>,
    ) -> Result<(T, ReloadOutcome), UiError> {
        let _guard = self.lock().await;
        let mut config = self.load()?;
        let value = change(&mut config)?;
        let outcome = self.save(ui, &config).await?;
        Ok((value, outcome))
    }

    pub fn next_test(&self) -> u64 {
        self.test_counter.fetch_add(1, Ordering::Relaxed)
    }

    /// A new sign-in begins: any earlier one still waiting is cancelled (its listener closes).
    pub fn begin_sign_in(&self) -> CancellationToken {
        let token = CancellationToken::new();
        let previous = self
            .signin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .replace(token.clone());
        if let Some(previous) = previous {
            previous.cancel();
        }
        token
    }

    /// Cancels the waiting sign-in, if any.
    pub fn cancel_sign_in(&self) {
        if let Some(token) = self
            .signin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            token.cancel();
        }
    }
}

/// The account `--account ID` or a later `ShowAccount(ID)` asked the window to show, until the
/// UI takes it (`take_shown_account`). Kept here rather than only sent as an event, so one
/// that arrives before the UI listens is not lost.
#[derive(Default)]
pub struct ShownAccount(std::sync::Mutex<Option<String>>);

impl ShownAccount {
    pub fn new(id: Option<String>) -> ShownAccount {
        ShownAccount(std::sync::Mutex::new(id))
    }

    pub fn set(&self, id: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(id);
    }

    pub fn take(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}
