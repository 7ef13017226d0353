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
}

impl AppState {
    pub fn new(config_path: PathBuf, tray: Tray) -> AppState {
        AppState {
            config_path,
            write_lock: Mutex::new(()),
            tray,
            test_counter: AtomicU64::new(0),
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
}
