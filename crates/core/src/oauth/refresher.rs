//! One account's access token, kept fresh: the thing the IMAP login asks before every
//! (re)connect.
//!
//! - It refreshes **before** the token expires (a margin, [`RefreshSettings::margin`]), by the
//!   wall clock, so a laptop that slept through the expiry refreshes on the first ask after
//!   resume instead of failing a login first.
//! - **One refresh at a time**: the state is behind a tokio `Mutex` held across the request, so
//!   callers that ask together wait for one refresh and share its token. Some servers revoke
//!   the whole grant when a rotated-away refresh token is used again; two refreshes racing with
//!   the same token would do exactly that. (Across processes the same rule needs the tray to
//!   own the refresher; that is the integration's part.)
//! - A **rotated refresh token is stored first**, through the caller's [`RefreshTokenStore`]
//!   (the keyring), and only then is the new access token handed out. If the store fails, the
//!   new refresh token is kept in memory, the call fails with [`OAuthError::Store`], and the
//!   next call writes it again before anything else.
//! - When the grant is gone ([`OAuthError::SigninRequired`]) it remembers: every later call
//!   fails the same way at once, with no token request, until [`AccountTokens::replace_grant`]
//!   after the user signed in again.
//! - A refresh that fails for a passing reason while the current token is still valid (inside
//!   the margin, not yet expired) returns the current token: refreshing early must never make
//!   things worse than not refreshing.

use std::future::Future;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tracing::{debug, info};

use super::OAuthError;
use super::provider::Provider;
use super::token::{TokenClient, Tokens};
use crate::secret::SecretError;

/// How long before its expiry an access token is replaced by default: five minutes, so a
/// connect that starts just before the expiry does not log in with a token that dies during
/// the login, and a clock a few minutes off does not matter.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The lifetime assumed when the token endpoint does not say (`expires_in` is only
/// RECOMMENDED): an hour, what Google and Microsoft issue. A server that ends sessions
/// earlier is handled by [`AccountTokens::invalidate`].
pub const ASSUMED_LIFETIME: Duration = Duration::from_secs(3600);

/// Settings of the refresher (a config knob later).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshSettings {
    /// Refresh this long before expiry; for tokens that live less than twice this long, half
    /// their lifetime instead (a 30-second token is refreshed after 15 s, not on every ask).
    pub margin: Duration,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        RefreshSettings {
            margin: DEFAULT_REFRESH_MARGIN,
        }
    }
}

/// Where a rotated refresh token goes before its access token is used: the account's keyring
/// entry. It must not return `Ok` until the token is stored durably.
///
/// Any `Fn(SecretString) -> impl Future<Output = Result<(), SecretError>>` is one, so a caller
/// can pass a closure around `secret.rs`'s keyring calls.
pub trait RefreshTokenStore: Send + Sync {
    fn store(
        &self,
        refresh_token: SecretString,
    ) -> impl Future<Output = Result<(), SecretError>> + Send;

    /// The refresh token as stored now, if the store can tell: another process (the settings
    /// window, the CLI, a second tray) may have rotated it or signed in anew since. `None`:
    /// trust the one in memory.
    fn load(&self) -> impl Future<Output = Result<Option<SecretString>, SecretError>> + Send {
        async { Ok(None) }
    }

    /// Held across a refresh (request and store), so that no two processes refresh one grant
    /// at once: a refresh token used twice revokes the grant at some providers.
    fn lock(&self) -> impl Future<Output = Result<RefreshLock, SecretError>> + Send {
        async { Ok(RefreshLock(None)) }
    }
}

/// What [`RefreshTokenStore::lock`] holds until dropped (a locked file, or nothing).
pub struct RefreshLock(pub Option<Box<dyn Send + Sync>>);

impl<F, Fut> RefreshTokenStore for F
where
    F: Fn(SecretString) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), SecretError>> + Send,
{
    fn store(
        &self,
        refresh_token: SecretString,
    ) -> impl Future<Output = Result<(), SecretError>> + Send {
        self(refresh_token)
    }
}

struct Cached {
    token: SecretString,
    /// Past this, refresh first.
    refresh_after: SystemTime,
    /// Past this, the token is dead.
    expires_at: SystemTime,
}

struct State {
    refresh: SecretString,
    /// A rotated refresh token the store has not accepted yet.
    unsaved: bool,
    access: Option<Cached>,
    /// The grant is gone: no more token requests.
    grant_gone: Option<OAuthError>,
}

/// One account's tokens. Share it (`Arc`) between everything that logs in for the account.
pub struct AccountTokens<S> {
    provider: Provider,
    client: TokenClient,
    settings: RefreshSettings,
    store: S,
    state: Mutex<State>,
}

impl<S> std::fmt::Debug for AccountTokens<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountTokens")
            .field("provider", &self.provider.name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<S: RefreshTokenStore> AccountTokens<S> {
    /// A refresher for an account whose refresh token (from the keyring) is `refresh_token`.
    pub fn new(
        provider: Provider,
        client: TokenClient,
        refresh_token: SecretString,
        store: S,
        settings: RefreshSettings,
    ) -> Self {
        AccountTokens {
            provider,
            client,
            settings,
            store,
            state: Mutex::new(State {
                refresh: refresh_token,
                unsaved: false,
                access: None,
                grant_gone: None,
            }),
        }
    }

    /// A valid access token: the one in memory while it has more than the margin left, else a
    /// fresh one.
    pub async fn access_token(&self) -> Result<SecretString, OAuthError> {
        self.access_token_at(SystemTime::now).await
    }

    /// [`access_token`](Self::access_token) with the clock given (tests).
    pub(crate) async fn access_token_at(
        &self,
        now: impl Fn() -> SystemTime,
    ) -> Result<SecretString, OAuthError> {
        let mut st = self.state.lock().await;
        if let Some(gone) = st.grant_gone.clone() {
            // A new sign-in, perhaps in another process, writes a new refresh token: a look
            // at the store (local, no request to the provider) tells.
            match self.store.load().await {
                Ok(Some(stored)) if stored.expose_secret() != st.refresh.expose_secret() => {
                    info!("{}: a new sign-in was stored", self.provider.name);
                    st.refresh = stored;
                    st.unsaved = false;
                    st.grant_gone = None;
                    st.access = None;
                }
                _ => return Err(gone),
            }
        }
        self.save_pending(&mut st).await?;
        if let Some(c) = &st.access
            && now() < c.refresh_after
        {
            return Ok(c.token.clone());
        }
        let _lock = self.store.lock().await.map_err(|e| OAuthError::Store {
            words: e.to_string(),
        })?;
        // Another process may have rotated the token while we did not hold the lock. A store
        // that cannot say is no reason to guess: refreshing with a token rotated away
        // elsewhere revokes the whole grant at some providers.
        match self.store.load().await {
            Ok(Some(stored)) => st.refresh = stored,
            Ok(None) => {}
            Err(e) => {
                return Err(OAuthError::Store {
                    words: e.to_string(),
                });
            }
        }
        let tokens = match self.client.refresh(&self.provider, &st.refresh).await {
            Ok(t) => t,
            Err(e) if e.is_signin_required() => {
                info!(
                    "{}: the grant is gone; sign-in required",
                    self.provider.name
                );
                st.access = None;
                st.grant_gone = Some(e.clone());
                return Err(e);
            }
            Err(e) => {
                if let Some(c) = &st.access
                    && now() < c.expires_at
                {
                    debug!("early refresh failed ({e}); the current token is still valid");
                    return Ok(c.token.clone());
                }
                return Err(e);
            }
        };
        let access = self.remember(&mut st, tokens, now());
        self.save_pending(&mut st).await?;
        Ok(access)
    }

    /// Keeps a token answer: the access token in the cache, a rotated refresh token as unsaved.
    fn remember(&self, st: &mut State, tokens: Tokens, now: SystemTime) -> SecretString {
        if let Some(rotated) = tokens.refresh
            && rotated.expose_secret() != st.refresh.expose_secret()
        {
            st.refresh = rotated;
            st.unsaved = true;
        }
        let lifetime = tokens.lifetime.unwrap_or(ASSUMED_LIFETIME);
        let margin = self.settings.margin.min(lifetime / 2);
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        st.access = Some(Cached {
            token: tokens.access.clone(),
            refresh_after: expires_at.checked_sub(margin).unwrap_or(now),
            expires_at,
        });
        tokens.access
    }

    /// Writes an unsaved refresh token; nothing is handed out until that succeeded.
    async fn save_pending(&self, st: &mut State) -> Result<(), OAuthError> {
        if !st.unsaved {
            return Ok(());
        }
        self.store
            .store(st.refresh.clone())
            .await
            .map_err(|e| OAuthError::Store {
                words: e.to_string(),
            })?;
        st.unsaved = false;
        Ok(())
    }

    /// The server refused `rejected` (`+ {"status":"invalid_token"}`, `* BYE … AccessTokenExpired`):
    /// the next ask refreshes. Only if it is still the token in memory — two connections that
    /// failed with the same token cause one refresh, not two.
    pub async fn invalidate(&self, rejected: &SecretString) {
        let mut st = self.state.lock().await;
        if st
            .access
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == rejected.expose_secret())
        {
            st.access = None;
        }
    }

    /// Drops the access token in memory whatever it is (the server ended the session because
    /// it expired, earlier than its `expires_in` said): the next ask refreshes.
    pub async fn forget_access(&self) {
        self.state.lock().await.access = None;
    }

    /// After a new sign-in: the new grant (its refresh token, already stored by the caller)
    /// and, if the caller has it, its first access token. Clears "sign-in required".
    pub async fn replace_grant(&self, refresh_token: SecretString, first: Option<Tokens>) {
        let mut st = self.state.lock().await;
        st.refresh = refresh_token;
        st.unsaved = false;
        st.grant_gone = None;
        st.access = None;
        if let Some(mut tokens) = first {
            tokens.refresh = None;
            self.remember(&mut st, tokens, SystemTime::now());
        }
    }

    /// Whether the account waits for the user to sign in again.
    pub async fn signin_required(&self) -> bool {
        self.state.lock().await.grant_gone.is_some()
    }
}
