//! One account's sign-in as the rest of Pushmail sees it: the refresh token in the OS keyring,
//! one [`AccountTokens`] per account in this process, and a lock shared with every other
//! Pushmail process of the user around each refresh.
//!
//! **One refresher per grant on the machine.** The tray, the settings window and the CLI may
//! each need a token for the same account (the watcher, a connection test, `account test`).
//! Some providers revoke the whole grant when a rotated-away refresh token is used again, so
//! two processes must never refresh with the same one. Every refresh therefore runs under an
//! exclusive `flock` on `$XDG_STATE_HOME/pushmail/oauth/<id>.lock`, and reads the refresh token
//! from the keyring again once it holds it: a process that comes second uses the token the
//! first one stored. Within a process, [`AccountTokens`] already serialises refreshes.
//! (A D-Bus service handing out the tray's access tokens would save the other processes a
//! refresh each; the lock makes that an optimisation, not a safety rule.)
//!
//! Access tokens live only in memory. The refresh token is written to the keyring before the
//! new access token is used (the refresher's rule).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use secrecy::SecretString;

use super::HttpClient;
use super::provider::Provider;
use super::refresher::{AccountTokens, RefreshLock, RefreshSettings, RefreshTokenStore};
use super::token::{TokenClient, Tokens};
use crate::config::{Account, OAuthSettings};
use crate::error::{ConnectError, NetCause, SignInProblem};
use crate::secret::{self, SecretError};

/// The keyring entry of one account's refresh token, with the cross-process lock.
pub struct KeyringStore {
    id: String,
}

impl RefreshTokenStore for KeyringStore {
    async fn store(&self, refresh_token: SecretString) -> Result<(), SecretError> {
        secret::store_refresh_token(&self.id, refresh_token).await
    }

    async fn load(&self) -> Result<Option<SecretString>, SecretError> {
        match secret::refresh_token(&self.id).await {
            Ok(t) => Ok(Some(t)),
            Err(SecretError::Missing(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn lock(&self) -> Result<RefreshLock, SecretError> {
        if let Some(vault) = secret::vault() {
            // The processes sharing a vault are on other machines: a file lock cannot reach
            // them; the vault's own lock does.
            let held = vault.lock_refresh(&self.id).await?;
            return Ok(RefreshLock(Some(held)));
        }
        let path = lock_path(&self.id).map_err(SecretError::Keyring)?;
        let file = tokio::task::spawn_blocking(move || lock_file(&path))
            .await
            .map_err(|e| SecretError::Keyring(format!("lock task failed: {e}")))?
            .map_err(SecretError::Keyring)?;
        Ok(RefreshLock(Some(Box::new(file))))
    }
}

/// `$XDG_STATE_HOME/pushmail/oauth/<id>.lock` (`~/.local/state/…`), beside the state
/// database: every Pushmail process of the user sees the same file.
fn lock_path(id: &str) -> Result<PathBuf, String> {
    let db = crate::sync::state::Store::default_path().map_err(|e| e.to_string())?;
    let dir = db
        .parent()
        .ok_or_else(|| "no state directory".to_owned())?
        .join("oauth");
    Ok(dir.join(format!("{id}.lock")))
}

/// Opens (creating, 0600 in a 0700 directory) and locks `path` exclusively, waiting for any
/// other holder; the lock goes with the file when it is closed.
fn lock_file(path: &std::path::Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // flock(2): released when the file is closed, also when the process dies.
    file.lock()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file)
}

/// One account's tokens in this process, for as long as its sign-in settings stay the same.
struct Entry {
    /// What the entry was made for: other settings make a new one.
    made_for: (OAuthSettings, String, u16, Option<PathBuf>),
    provider: Provider,
    tokens: AccountTokens<KeyringStore>,
}

static ENTRIES: LazyLock<Mutex<HashMap<String, Arc<Entry>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The provider of `account` (built in, with its overrides, or custom), ready to use.
pub fn provider(account: &Account, settings: &OAuthSettings) -> Result<Provider, ConnectError> {
    let p = settings
        .provider(&account.host, account.port)
        .map_err(|e| ConnectError::from((settings.provider.as_str(), e)))?;
    p.validate()
        .map_err(|e| ConnectError::from((settings.provider.as_str(), e)))?;
    Ok(p)
}

/// The authorization request's choices for `account`, the same for every front end (the
/// settings window and `pushmail-cli account login`): the address as `login_hint`, and
/// `prompt=consent` only where it is needed for a refresh token. What Thunderbird does: never
/// for the big providers (Google gets its refresh token from `access_type=offline`, Microsoft,
/// Yahoo, AOL and Fastmail from their scopes, and a consent page at every sign-in only
/// annoys); for a custom OpenID provider that asks for `offline_access`, yes — OpenID Connect
/// Core §11 lets a server drop `offline_access` without it, and oidc-provider does.
pub fn authorization_options(
    account: &Account,
    settings: &OAuthSettings,
    provider: &Provider,
) -> super::AuthorizationOptions {
    super::AuthorizationOptions {
        login_hint: Some(
            account
                .email
                .clone()
                .unwrap_or_else(|| account.username.clone()),
        ),
        prompt_consent: settings.provider == "custom"
            && provider.scopes.iter().any(|s| s == "offline_access"),
    }
}

/// The HTTP client for `account`'s provider: the system's roots, and the account's `ca_file`
/// (a self-hosted server's private CA signs its sign-in endpoints too).
pub fn http_client(account: &Account) -> Result<HttpClient, ConnectError> {
    let Some(path) = &account.ca_file else {
        return HttpClient::new().map_err(|e| ConnectError::from(("custom", e)));
    };
    let pem = std::fs::read(path).map_err(|_| ConnectError::Config {
        problem: crate::error::ConfigProblem::CaFileUnreadable {
            path: path.display().to_string(),
        },
        words: None,
    })?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .filter_map(Result::ok)
        .collect();
    HttpClient::with_extra_roots(certs).map_err(|e| ConnectError::from(("custom", e)))
}

/// This process's tokens for `account` (made on first use from the refresh token in the
/// keyring). No refresh token stored: [`SignInProblem::Required`].
async fn entry(account: &Account, settings: &OAuthSettings) -> Result<Arc<Entry>, ConnectError> {
    let made_for = (
        settings.clone(),
        account.host.clone(),
        account.port,
        account.ca_file.clone(),
    );
    if let Some(e) = lock_entries().get(&account.id)
        && e.made_for == made_for
    {
        return Ok(e.clone());
    }
    let provider = provider(account, settings)?;
    let refresh = match secret::refresh_token(&account.id).await {
        Ok(t) => t,
        Err(SecretError::Missing(_)) => {
            return Err(ConnectError::sign_in(
                SignInProblem::Required,
                &settings.provider,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let client = TokenClient::new(http_client(account)?);
    let tokens = AccountTokens::new(
        provider.clone(),
        client,
        refresh,
        KeyringStore {
            id: account.id.clone(),
        },
        RefreshSettings::default(),
    );
    let entry = Arc::new(Entry {
        made_for,
        provider,
        tokens,
    });
    // Two tasks that raced here both made one; the first one stored wins, so all share it.
    let mut entries = lock_entries();
    let kept = entries
        .entry(account.id.clone())
        .and_modify(|e| {
            if e.made_for != entry.made_for {
                *e = entry.clone();
            }
        })
        .or_insert_with(|| entry.clone());
    Ok(kept.clone())
}

fn lock_entries() -> std::sync::MutexGuard<'static, HashMap<String, Arc<Entry>>> {
    ENTRIES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A valid access token for `account`, and its provider (for the SASL mechanism).
pub async fn access_token(
    account: &Account,
    settings: &OAuthSettings,
) -> Result<(SecretString, Provider), ConnectError> {
    let entry = entry(account, settings).await?;
    let token = entry
        .tokens
        .access_token()
        .await
        .map_err(|e| ConnectError::from((settings.provider.as_str(), e)))?;
    Ok((token, entry.provider.clone()))
}

/// The server refused `token`: the next ask refreshes.
pub async fn rejected(account_id: &str, token: &SecretString) {
    let entry = lock_entries().get(account_id).cloned();
    if let Some(e) = entry {
        e.tokens.invalidate(token).await;
    }
}

/// This process forgets `account_id`'s tokens (the account was removed, or another process
/// watches it now): no refresh or access token of it stays in memory.
pub fn forget(account_id: &str) {
    lock_entries().remove(account_id);
}

/// The server ended the session because the token expired: the next login gets a new one.
pub async fn forget_access(account_id: &str) {
    let entry = lock_entries().get(account_id).cloned();
    if let Some(e) = entry {
        e.tokens.forget_access().await;
    }
}

/// A new sign-in for `account`: the refresh token goes to the keyring first, then this
/// process's tokens start from it (clearing `signin_required`).
pub async fn signed_in(account: &Account, tokens: Tokens) -> Result<(), ConnectError> {
    let Some(refresh) = tokens.refresh.clone() else {
        return Err(ConnectError::sign_in(
            SignInProblem::Required,
            match &account.password {
                crate::config::PasswordSource::OAuth2(s) => s.provider.as_str(),
                _ => "custom",
            },
        )
        .with_words("the provider gave no refresh token (offline access)"));
    };
    secret::store_refresh_token(&account.id, refresh.clone()).await?;
    let entry = lock_entries().get(&account.id).cloned();
    if let Some(e) = entry {
        e.tokens.replace_grant(refresh, Some(tokens)).await;
    }
    Ok(())
}

/// Whether `error` is Exchange's goodbye to a session whose token expired
/// (`* BYE Session invalidated - AccessTokenExpired`): a silent reconnect, not a failure.
pub fn token_expired_bye(error: &ConnectError) -> bool {
    matches!(
        error,
        ConnectError::Network {
            cause: NetCause::Bye | NetCause::ByeInsteadOfIdle,
            words: Some(w),
            ..
        } if w.to_ascii_lowercase().contains("accesstokenexpired")
    )
}
