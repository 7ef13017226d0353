//! Commands on a logged-in session, the way every caller runs them (the watcher, the account
//! test, the folder list, mark-as-read): bounded by a timeout, confirmed by the server's tagged
//! `OK` ([`StatusTap::confirmed`]), and a failure read into a structured [`ConnectError`] that
//! names the step and keeps the server's words apart.
//!
//! Also the one way to get such a session: [`open`] is password → connect → log in.

use std::time::Duration;

use tokio::time::timeout;
use tracing::debug;

use super::transport::framing::LimitError;
use super::transport::login::{LoggedIn, login};
use super::transport::{self, StatusTap, TlsConfigs};
use crate::config::Account;
use crate::error::{ConnectError, NetCause, ProtoCause, Step};
use crate::secret;

/// Password (keyring or command), connection (TLS or strict STARTTLS) and login, with the
/// account's timeouts: the one way into a session, for the watcher and for every short
/// connection of its own (account test, folder list, mark as read).
pub async fn open(account: &Account, tls: &TlsConfigs) -> Result<LoggedIn, ConnectError> {
    let password = secret::password(account).await?;
    open_with(account, &password, tls).await
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

/// What an async-imap error during `step` means. A connection that ended after the server
/// said `* BYE` carries the server's words (why it left), not a bare "connection lost".
pub fn imap_error(step: Step, e: async_imap::error::Error, tap: &StatusTap) -> ConnectError {
    use async_imap::error::Error as E;
    use std::io::ErrorKind;
    let ended = |tap: &StatusTap| match tap.take_bye() {
        Some(said) => ConnectError::network(NetCause::Bye).with_words(said),
        None => ConnectError::network(NetCause::Lost),
    };
    let error = match e {
        // The framer's limits (`imap/transport/framing.rs`) come as InvalidData carrying the limit.
        E::Io(io) if io.kind() == ErrorKind::InvalidData => {
            match io.get_ref().and_then(|i| i.downcast_ref::<LimitError>()) {
                Some(limit) => ConnectError::protocol(ProtoCause::Limit(limit.clone())),
                None => ConnectError::protocol(ProtoCause::Other).with_words(io.to_string()),
            }
        }
        // imap-proto could not parse what the server sent; async-imap wraps that as
        // `io::Error::other` whose text is a Debug dump of the parser state and the buffer:
        // for the log (capped), never for a person. Being the server's bytes, not the
        // network's, it may put a folder under care (`watch/memory.rs`).
        E::Io(io) if io.kind() == ErrorKind::Other => {
            debug!(
                "unparsable response: {}",
                crate::text::truncate_for_log(&io.to_string())
            );
            ConnectError::protocol(ProtoCause::Unparsable)
        }
        E::Io(io) if io.kind() == ErrorKind::UnexpectedEof => ended(tap),
        E::Io(io) => match tap.take_bye() {
            Some(said) => ConnectError::network(NetCause::Bye).with_words(said),
            None => ConnectError::network(NetCause::Failed).with_words(io.to_string()),
        },
        E::ConnectionLost => ended(tap),
        E::No(m) | E::Bad(m) => ConnectError::protocol(ProtoCause::Refused).with_words(m),
        other => ConnectError::protocol(ProtoCause::Other).with_words(other.to_string()),
    };
    error.at(step)
}
