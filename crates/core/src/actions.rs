//! One-shot actions on the server that a front end triggers on the user's behalf, each on a
//! short-lived connection of its own so the watchers' IDLE sessions are never interrupted.
//!
//! The watcher of the folder sees the result like any change made elsewhere (a `FETCH FLAGS`
//! during IDLE), so counts and popups follow without the front end doing anything more.

use tokio::time::timeout;

use crate::config::Account;
use crate::error::ConnectError;
use crate::imap::login::login;
use crate::imap::transport;
use crate::secret;

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Connecting or logging in failed; the watcher reports the same problem in its state.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The folder was renumbered (UIDVALIDITY changed) since the message was announced, so the
    /// UID may now name a different message: nothing was changed.
    #[error("the folder {folder} changed since the message was announced; nothing was marked")]
    UidValidityChanged { folder: String },
}

/// Sets `\Seen` on one message: connect with the account's settings, log in, SELECT the
/// folder, check that UIDVALIDITY is still the one the message was announced with, `UID STORE
/// uid +FLAGS.SILENT (\Seen)`, log out. Every step is bounded by the account's timeouts.
///
/// A message that no longer exists is not an error (STORE on a missing UID is a no-op).
pub async fn mark_read(
    account: &Account,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
) -> Result<(), ActionError> {
    let limit = account.timing.command_timeout;
    let password = secret::password(account)
        .await
        .map_err(ConnectError::Secret)?;
    let greeted = transport::connect(account).await?;
    let logged_in = login(greeted, &account.username, &password, limit).await?;
    drop(password);
    let (mut session, tap) = (logged_in.session, logged_in.tap);
    let result = async {
        let mailbox = timeout(
            limit,
            crate::imap::mailbox::select(&mut session, &tap, folder),
        )
        .await
        .map_err(|_| ConnectError::Timeout("selecting the folder"))?
        .map_err(|e| imap_failure("selecting the folder", e))?;
        if mailbox.uid_validity != Some(uidvalidity) {
            return Err(ActionError::UidValidityChanged {
                folder: folder.to_owned(),
            });
        }
        let store = async {
            use futures::TryStreamExt;
            let stream = session
                .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
                .await?;
            stream.try_collect::<Vec<_>>().await
        };
        // Confirmed: async-imap reports a STORE cut off by a closed connection as done.
        timeout(limit, tap.confirmed(store))
            .await
            .map_err(|_| ConnectError::Timeout("marking the message as read"))?
            .map_err(|e| imap_failure("marking the message as read", e))?;
        Ok(())
    }
    .await;
    crate::imap::login::logout(&mut session).await;
    result
}

/// The watcher's reading of an IMAP error (network, the server's own NO/BAD, or a protocol
/// breach), so a failed action says the same as a failed watch would.
fn imap_failure(what: &'static str, e: async_imap::error::Error) -> ActionError {
    ActionError::Connect(crate::watch::account::imap_error(what, e))
}
