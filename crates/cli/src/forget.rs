//! `pushmail-cli forget-everything`: removes the per-user data Pushmail keeps, and only that —
//! the configuration file, the state database (what was announced), the accounts' passwords in
//! the OS keyring and the start-at-login entry — and says what it removed.
//!
//! This exists because uninstalling the packages must not touch anyone's home directory (Debian
//! policy: `apt purge` removes system files only), so a person who wants Pushmail gone without a
//! trace needs one command that knows where its data lives.
//!
//! Order matters: the passwords go first, because the configuration is the only list of which
//! accounts have one; if the keyring cannot be reached, nothing else is removed and the command
//! can simply be run again. A running tray is asked to quit before anything is removed, or it
//! would write its state database again.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use pushmail_core::i18n::{I18n, text};
use pushmail_core::{Config, PasswordSource, Store};
use pushmail_core::{desktop, secret};

#[derive(clap::Args, Debug)]
pub struct ForgetArgs {
    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// State database (default: $XDG_STATE_HOME/pushmail/state.sqlite3).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
}

/// One thing that will be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// The account's password in the OS keyring.
    Password(String),
    /// The account's sign-in (OAuth2 refresh token) in the OS keyring.
    SignIn(String),
    Autostart(PathBuf),
    /// The database and its SQLite companions (`-wal`, `-shm`, `-journal`) that exist.
    State(Vec<PathBuf>),
    Config(PathBuf),
}

impl Item {
    fn describe(&self, i18n: &I18n) -> String {
        let shown = |p: &Path| p.display().to_string();
        match self {
            Item::Password(id) => i18n.tr_plain("cli-forget-item-password", &[("id", text(id))]),
            Item::SignIn(id) => i18n.tr_plain("cli-forget-item-signin", &[("id", text(id))]),
            Item::Autostart(p) => {
                i18n.tr_plain("cli-forget-item-autostart", &[("path", text(&shown(p)))])
            }
            Item::State(files) => i18n.tr_plain(
                "cli-forget-item-state",
                &[("path", text(&shown(&files[0])))],
            ),
            Item::Config(p) => {
                i18n.tr_plain("cli-forget-item-config", &[("path", text(&shown(p)))])
            }
        }
    }
}

/// The state database and whichever of its companion files exist.
fn state_files(db: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if db.exists() {
        files.push(db.to_owned());
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            files.push(path);
        }
    }
    files
}

pub async fn run(args: ForgetArgs, config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path).with_context(|| {
        format!(
            "Cannot read {} — it lists the accounts whose passwords are in the keyring; fix \
             it (or remove it by hand) and run this again",
            config_path.display()
        )
    })?;
    let i18n = crate::lang::of(&config);

    let mut items = Vec::new();
    for account in &config.accounts {
        let found = match account.password {
            PasswordSource::Keyring => secret::password(account)
                .await
                .map(|_| Item::Password(account.id.clone())),
            PasswordSource::OAuth2(_) => secret::refresh_token(&account.id)
                .await
                .map(|_| Item::SignIn(account.id.clone())),
            PasswordSource::Command(_) | PasswordSource::Vault => continue,
        };
        match found {
            Ok(item) => items.push(item),
            Err(secret::SecretError::Missing(_)) => {}
            Err(e) => {
                bail!(
                    "{}; nothing was removed. {}",
                    e.message_in(&i18n),
                    e.hint_in(&i18n)
                )
            }
        }
    }
    if let Some(path) = desktop::autostart_path().filter(|p| p.exists()) {
        items.push(Item::Autostart(path));
    }
    let state = match args.state {
        Some(p) => p,
        None => Store::default_path()?,
    };
    let files = state_files(&state);
    if !files.is_empty() {
        items.push(Item::State(files));
    }
    if config_path.exists() {
        items.push(Item::Config(config_path.to_owned()));
    }

    if items.is_empty() {
        println!("{}", i18n.tr_plain("cli-forget-nothing", &[]));
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("{}", i18n.tr_plain("cli-forget-needs-yes", &[]));
        }
        println!("{}", i18n.tr_plain("cli-forget-plan", &[]));
        for item in &items {
            println!("  {}", item.describe(&i18n));
        }
        print!("{} ", i18n.tr_plain("cli-forget-confirm", &[]));
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            println!("{}", i18n.tr_plain("cli-forget-cancelled", &[]));
            return Ok(ExitCode::FAILURE);
        }
    }

    if crate::status::quit_running_tray().await? {
        println!("{}", i18n.tr_plain("cli-forget-quit-tray", &[]));
    }
    for item in &items {
        match item {
            Item::Password(id) => secret::delete_password(id)
                .await
                .map_err(|e| anyhow::anyhow!("{} {}", e.message_in(&i18n), e.hint_in(&i18n)))?,
            Item::SignIn(id) => secret::delete_refresh_token(id)
                .await
                .map_err(|e| anyhow::anyhow!("{} {}", e.message_in(&i18n), e.hint_in(&i18n)))?,
            Item::Autostart(path) | Item::Config(path) => remove(path)?,
            Item::State(files) => {
                for f in files {
                    remove(f)?;
                }
            }
        }
        println!(
            "{}",
            i18n.tr_plain(
                "cli-forget-removed",
                &[("what", text(&item.describe(&i18n)))]
            )
        );
    }
    // The sign-in locks (`oauth/<id>.lock` beside the default state database) hold nothing,
    // but they are Pushmail's: they go with it.
    if let Some(oauth) = Store::default_path()
        .ok()
        .and_then(|db| db.parent().map(|d| d.join("oauth")))
        && let Ok(entries) = std::fs::read_dir(&oauth)
    {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "lock") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let _ = std::fs::remove_dir(&oauth);
    }
    // Pushmail's own directories go too, once empty; anything else a person put there stays.
    for dir in [state.parent(), config_path.parent()].into_iter().flatten() {
        if dir.file_name().is_some_and(|n| n == "pushmail") {
            let _ = std::fs::remove_dir(dir);
        }
    }
    println!("{}", i18n.tr_plain("cli-forget-done", &[]));
    Ok(ExitCode::SUCCESS)
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("Cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn state_files_lists_the_database_and_its_companions_that_exist() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.sqlite3");
        assert!(state_files(&db).is_empty());
        std::fs::write(&db, b"").unwrap();
        std::fs::write(dir.path().join("state.sqlite3-wal"), b"").unwrap();
        assert_eq!(
            state_files(&db),
            [db.clone(), dir.path().join("state.sqlite3-wal")]
        );
    }
}
