//! Passwords: from the OS keyring (Secret Service, Keychain, Credential Manager) or from the
//! account's `password_command`. Never from, or to, a file of ours.
//!
//! Passwords live in [`SecretString`] so they are zeroed on drop and print as `[REDACTED]`.

use std::process::Stdio;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncReadExt;

use crate::config::{Account, PasswordSource};
use crate::i18n::{I18n, text};

/// The keyring "service" all Pushmail entries are stored under; the entry's user is the
/// account id, so renaming host or user keeps the password.
pub const KEYRING_SERVICE: &str = "pushmail";

/// How long a `password_command` may take (a GPG agent prompt can be slow, a hung one must not
/// hang the account forever).
pub const PASSWORD_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No Secret Service / Keychain could be reached at all.
    #[error("no OS keyring is available: {0}")]
    NoKeyring(String),
    /// The keyring exists but is locked or refused access.
    #[error("the OS keyring is locked or refused access: {0}")]
    Locked(String),
    /// No password is stored for this account.
    #[error("no password is stored in the OS keyring for account `{0}`")]
    Missing(String),
    #[error("the keyring failed: {0}")]
    Keyring(String),
    #[error("password_command failed: {0}")]
    Command(String),
}

impl SecretError {
    /// The Fluent id of [`hint`](Self::hint): `hint-secret-no-keyring`, `hint-secret-locked`,
    /// `hint-secret-missing`, `hint-secret-keyring` or `hint-secret-command`.
    pub fn hint_id(&self) -> &'static str {
        match self {
            SecretError::NoKeyring(_) => "hint-secret-no-keyring",
            SecretError::Locked(_) => "hint-secret-locked",
            SecretError::Missing(_) => "hint-secret-missing",
            SecretError::Keyring(_) => "hint-secret-keyring",
            SecretError::Command(_) => "hint-secret-command",
        }
    }

    /// What to do, in English (logs).
    pub fn hint(&self) -> String {
        self.hint_in(I18n::english())
    }

    /// [`hint`](Self::hint) in `i18n`'s language.
    pub fn hint_in(&self, i18n: &I18n) -> String {
        let id = match self {
            SecretError::Missing(id) => id.as_str(),
            _ => "",
        };
        i18n.tr_plain(self.hint_id(), &[("id", text(id))])
    }

    /// What went wrong (the English `Display` text) in `i18n`'s language; the keyring's or the
    /// command's own words stay as they were.
    pub fn message_in(&self, i18n: &I18n) -> String {
        let (key, var, value) = match self {
            SecretError::NoKeyring(r) => ("error-secret-no-keyring", "reason", r),
            SecretError::Locked(r) => ("error-secret-locked", "reason", r),
            SecretError::Missing(id) => ("error-secret-missing", "id", id),
            SecretError::Keyring(r) => ("error-secret-keyring", "reason", r),
            SecretError::Command(r) => ("error-secret-command", "reason", r),
        };
        i18n.tr_plain(key, &[(var, text(value))])
    }

    /// A missing password will not appear by itself; a locked keyring may be unlocked later.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SecretError::Missing(_))
    }
}

fn map_keyring(id: &str, e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoEntry => SecretError::Missing(id.to_owned()),
        keyring::Error::NoDefaultStore => {
            SecretError::NoKeyring("no Secret Service on the session bus".into())
        }
        keyring::Error::NoStorageAccess(e) => SecretError::Locked(e.to_string()),
        other => SecretError::Keyring(other.to_string()),
    }
}

/// Keyring calls block on D-Bus; keep them off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecretError> + Send + 'static,
) -> Result<T, SecretError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SecretError::Keyring(format!("keyring task failed: {e}")))?
}

/// Stores `password` for account `id` in the OS keyring.
pub async fn store_password(id: &str, password: SecretString) -> Result<(), SecretError> {
    let id = id.to_owned();
    blocking(move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &id).map_err(|e| map_keyring(&id, e))?;
        entry
            .set_password(password.expose_secret())
            .map_err(|e| map_keyring(&id, e))
    })
    .await
}

/// Removes account `id`'s password from the OS keyring; a missing entry is not an error.
pub async fn delete_password(id: &str) -> Result<(), SecretError> {
    let id = id.to_owned();
    blocking(move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &id).map_err(|e| map_keyring(&id, e))?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(&id, e)),
        }
    })
    .await
}

/// The keyring entry (its "user") of account `id`'s sign-in: `<id>:oauth2`, beside the
/// password entry `<id>` (an id has no `:`). Apart from the password on purpose: an account
/// switched back to a password must never send its refresh token to the server as one.
fn oauth_entry(id: &str) -> String {
    format!("{id}:oauth2")
}

/// Stores account `id`'s refresh token (a new sign-in, or one the provider rotated).
///
/// In a process with a [`Vault`] (the relay) every refresh token lives there instead.
pub async fn store_refresh_token(id: &str, token: SecretString) -> Result<(), SecretError> {
    if let Some(vault) = VAULT.get() {
        return vault.store_refresh_token(id, token).await;
    }
    store_password(&oauth_entry(id), token)
        .await
        .map_err(|e| unname(e, id))
}

/// Account `id`'s refresh token; [`SecretError::Missing`] when the user has not signed in.
pub async fn refresh_token(id: &str) -> Result<SecretString, SecretError> {
    if let Some(vault) = VAULT.get() {
        return vault.refresh_token(id).await;
    }
    let entry = oauth_entry(id);
    blocking(move || {
        keyring::Entry::new(KEYRING_SERVICE, &entry)
            .and_then(|e| e.get_password())
            .map(SecretString::from)
            .map_err(|e| map_keyring(&entry, e))
    })
    .await
    .map_err(|e| unname(e, id))
}

/// Removes account `id`'s refresh token; a missing entry is not an error.
pub async fn delete_refresh_token(id: &str) -> Result<(), SecretError> {
    if VAULT.get().is_some() {
        // The vault's owner destroys an account's secret with the account.
        return Ok(());
    }
    delete_password(&oauth_entry(id))
        .await
        .map_err(|e| unname(e, id))
}

/// Errors name the account, not the keyring entry.
fn unname(e: SecretError, id: &str) -> SecretError {
    match e {
        SecretError::Missing(_) => SecretError::Missing(id.to_owned()),
        other => other,
    }
}

/// The account's password, from wherever its configuration says. An account that signs in
/// (`auth = "oauth2"`) has none: its login asks `oauth::account` for a token instead, and
/// this refuses rather than hand a refresh token to anyone as a password.
pub async fn password(account: &Account) -> Result<SecretString, SecretError> {
    match &account.password {
        PasswordSource::OAuth2(_) => Err(SecretError::Keyring(format!(
            "account `{}` signs in with OAuth2 and has no password",
            account.id
        ))),
        PasswordSource::Keyring => {
            let id = account.id.clone();
            blocking(move || {
                let entry =
                    keyring::Entry::new(KEYRING_SERVICE, &id).map_err(|e| map_keyring(&id, e))?;
                entry
                    .get_password()
                    .map(SecretString::from)
                    .map_err(|e| map_keyring(&id, e))
            })
            .await
        }
        PasswordSource::Command(argv) => run_password_command(argv).await,
        PasswordSource::Vault => match VAULT.get() {
            Some(vault) => vault.password(&account.id).await,
            None => Err(SecretError::Missing(account.id.clone())),
        },
    }
}

/// A boxed future of a [`Vault`] method.
pub type VaultFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, SecretError>> + Send + 'a>>;

/// Where a service hosting the engine (the relay, which keeps secrets encrypted in its
/// database) keeps every account secret instead of the OS keyring: [`PasswordSource::Vault`]
/// passwords, and — in a process that installed one — every sign-in's refresh token.
/// Called on every login, so a changed password is used at the next reconnect.
pub trait Vault: Send + Sync + 'static {
    /// The account's password; [`SecretError::Missing`] when it has none.
    fn password(&self, account: &str) -> VaultFuture<'_, SecretString>;

    /// The account's refresh token; [`SecretError::Missing`] when it has none.
    fn refresh_token(&self, account: &str) -> VaultFuture<'_, SecretString>;

    /// Replaces the account's refresh token (a rotated one). Must not return `Ok` before it is
    /// stored durably: the refresher uses the new access token only then.
    fn store_refresh_token(&self, account: &str, token: SecretString) -> VaultFuture<'_, ()>;

    /// Held across one refresh of the account's grant, excluding every other process that
    /// shares the vault (a refresh token used twice revokes the grant at some providers).
    /// Dropping the value releases it.
    fn lock_refresh(&self, account: &str) -> VaultFuture<'_, Box<dyn Send + Sync>>;
}

/// The process's vault, if one was installed.
pub fn vault() -> Option<&'static dyn Vault> {
    VAULT.get().map(|v| &**v)
}

static VAULT: std::sync::OnceLock<Box<dyn Vault>> = std::sync::OnceLock::new();

/// Installs the process's vault (once; a second call is refused and returns the vault).
pub fn install_vault(vault: Box<dyn Vault>) -> Result<(), Box<dyn Vault>> {
    VAULT.set(vault)
}

/// Runs argv without a shell and returns the first line of its stdout. Its stderr goes to ours
/// (a prompt may need it) but its stdout never reaches a log.
async fn run_password_command(argv: &[String]) -> Result<SecretString, SecretError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| SecretError::Command("password_command is empty".into()))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| SecretError::Command(format!("cannot run `{program}`: {e}")))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| SecretError::Command("no stdout".into()))?;
    let work = async {
        // Read a bounded amount: a password is short, a runaway command is not our problem to buffer.
        let mut buf = Vec::new();
        (&mut stdout)
            .take(64 * 1024)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| SecretError::Command(format!("reading its output failed: {e}")))?;
        let status = child
            .wait()
            .await
            .map_err(|e| SecretError::Command(format!("waiting for it failed: {e}")))?;
        Ok::<_, SecretError>((status, buf))
    };
    let (status, buf) = tokio::time::timeout(PASSWORD_COMMAND_TIMEOUT, work)
        .await
        .map_err(|_| {
            SecretError::Command(format!(
                "`{program}` did not finish within {} s",
                PASSWORD_COMMAND_TIMEOUT.as_secs()
            ))
        })??;
    if !status.success() {
        return Err(SecretError::Command(format!(
            "`{program}` exited with {status}"
        )));
    }
    let text = String::from_utf8(buf).map_err(|_| {
        SecretError::Command(format!("`{program}` printed something that is not UTF-8"))
    })?;
    let first = text.lines().next().unwrap_or("");
    if first.is_empty() {
        return Err(SecretError::Command(format!(
            "`{program}` printed an empty first line"
        )));
    }
    Ok(SecretString::from(first.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn command_first_line_only() {
        let argv = vec!["printf".to_owned(), "s3cret\\nsecond line\\n".to_owned()];
        let pw = run_password_command(&argv).await.unwrap();
        assert_eq!(pw.expose_secret(), "s3cret");
    }

    #[tokio::test]
    async fn command_failures_are_reported_without_output() {
        let argv = vec![
            "sh".to_owned(),
            "-c".to_owned(),
            "echo leaked; exit 3".to_owned(),
        ];
        let err = run_password_command(&argv).await.unwrap_err().to_string();
        assert!(err.contains("exited"), "{err}");
        assert!(!err.contains("leaked"), "{err}");
        let missing = vec!["/nonexistent/pushmail-pw".to_owned()];
        assert!(run_password_command(&missing).await.is_err());
        let empty = vec!["true".to_owned()];
        assert!(
            run_password_command(&empty)
                .await
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
