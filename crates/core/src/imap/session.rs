//! Commands on a logged-in session, the way every caller runs them (the watcher, the account
//! test, the folder list, mark-as-read): bounded by a timeout, confirmed by the server's tagged
//! `OK` ([`StatusTap::confirmed`]), and a failure read into a structured [`ConnectError`] that
//! names the step and keeps the server's words apart.
//!
//! Also the one way to get such a session: [`open`] is password → connect → log in.

use std::time::Duration;

use tokio::time::timeout;

pub use super::transport::imap_error;
use super::transport::login::{LoggedIn, login};
use super::transport::{self, StatusTap, TlsConfigs};
use crate::config::Account;
use crate::error::{ConnectError, Step};
use crate::secret;

/// Password (keyring or command), connection (TLS or strict STARTTLS) and login, with the
/// account's timeouts: the one way into a session, for the watcher and for every short
/// connection of its own (account test, folder list, mark as read).
pub async fn open(account: &Account, tls: &TlsConfigs) -> Result<LoggedIn, ConnectError> {
    if let crate::config::PasswordSource::OAuth2(settings) = &account.password {
        return open_signed_in(account, settings, tls).await;
    }
    let password = secret::password(account).await?;
    open_with(account, &password, tls).await
}

/// [`open`] for an account that signs in (OAuth2): a valid access token (refreshed first if
/// needed), the connection, and a token login. A token the server refuses (revoked early,
/// expired sooner than it said) is dropped and the login tried once more with a fresh one; a
/// second refusal is a refusal.
async fn open_signed_in(
    account: &Account,
    settings: &crate::config::OAuthSettings,
    tls: &TlsConfigs,
) -> Result<LoggedIn, ConnectError> {
    use super::transport::login::{TokenLogin, login_with_token};
    use crate::oauth::account as signin;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (token, provider) = signin::access_token(account, settings).await?;
        let greeted = transport::connect(account, tls).await?;
        match login_with_token(
            greeted,
            &account.username,
            &token,
            &provider,
            account.timing.command_timeout,
        )
        .await
        {
            Ok(li) => return Ok(li),
            Err(TokenLogin::Rejected(_)) if attempts == 1 => {
                tracing::debug!(account = %account.id, "token refused; trying a fresh one");
                signin::rejected(&account.id, &token).await;
            }
            Err(TokenLogin::Rejected(e)) => {
                // A fresh token refused too: this grant does not open the mailbox (a scope
                // withdrawn, access to mail revoked). Only a new sign-in helps.
                signin::rejected(&account.id, &token).await;
                let words = match e {
                    ConnectError::Auth(w) => w,
                    other => other.to_string(),
                };
                return Err(ConnectError::sign_in(
                    crate::error::SignInProblem::Required,
                    &provider.name,
                )
                .with_words(words));
            }
            Err(TokenLogin::Failed(e)) => return Err(e),
        }
    }
}

/// [`open`] with an access token the caller already has (a service testing a sign-in with
/// the tokens of its code exchange, before it stores the grant): one connection, one token
/// login, no refresh and no second try.
pub async fn open_with_token(
    account: &Account,
    token: &secrecy::SecretString,
    provider: &crate::oauth::Provider,
    tls: &TlsConfigs,
) -> Result<LoggedIn, ConnectError> {
    use super::transport::login::{TokenLogin, login_with_token};
    let greeted = transport::connect(account, tls).await?;
    match login_with_token(
        greeted,
        &account.username,
        token,
        provider,
        account.timing.command_timeout,
    )
    .await
    {
        Ok(li) => Ok(li),
        Err(TokenLogin::Rejected(e)) => {
            let words = match e {
                ConnectError::Auth(w) => w,
                other => other.to_string(),
            };
            Err(ConnectError::Auth(words))
        }
        Err(TokenLogin::Failed(e)) => Err(e),
    }
}

/// [`open`] with a password the caller already has (a settings form before it is stored).
pub async fn open_with(
    account: &Account,
    password: &secrecy::SecretString,
    tls: &TlsConfigs,
) -> Result<LoggedIn, ConnectError> {
    let greeted = transport::connect(account, tls).await?;
    login(
        greeted,
        &account.username,
        password,
        account.timing.command_timeout,
    )
    .await
}

/// Runs one command under `limit`, confirmed by its tagged `OK`; a failure is `step`'s.
pub async fn run<T>(
    step: Step,
    limit: Duration,
    tap: &StatusTap,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, ConnectError> {
    match timeout(limit, tap.confirmed(fut)).await {
        Ok(Ok(v)) => Ok(v),
        Err(_) => Err(ConnectError::Timeout(step)),
        Ok(Err(e)) => Err(imap_error(step, e, tap)),
    }
}
