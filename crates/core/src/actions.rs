//! One-shot actions on the server that a front end triggers on the user's behalf, each on a
//! short-lived connection of its own so the watchers' IDLE sessions are never interrupted.
//!
//! The watcher of the folder sees the result like any change made elsewhere (a `FETCH FLAGS`
//! during IDLE), so counts and popups follow without the front end doing anything more.

use tokio::time::timeout;

use crate::config::Account;
use crate::error::{ConnectError, Step};
use crate::imap::transport::StatusTap;

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
    // A connection of its own, made once: a TLS configuration of its own too.
    let tls = crate::imap::transport::TlsConfigs::default();
    let logged_in = crate::imap::session::open(account, &tls).await?;
    let (mut session, tap) = (logged_in.session, logged_in.tap);
    let result = async {
        let mailbox = timeout(
            limit,
            crate::imap::mailbox::select(&mut session, &tap, folder),
        )
        .await
        .map_err(|_| ConnectError::Timeout(Step::SelectingFolder))?
        .map_err(|e| imap_failure(Step::SelectingFolder, e, &tap))?;
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
            .map_err(|_| ConnectError::Timeout(Step::MarkingRead))?
            .map_err(|e| imap_failure(Step::MarkingRead, e, &tap))?;
        Ok(())
    }
    .await;
    crate::imap::transport::login::logout(&mut session).await;
    result
}

/// The watcher's reading of an IMAP error (network, the server's own NO/BAD, or a protocol
/// breach), so a failed action says the same as a failed watch would.
fn imap_failure(step: Step, e: async_imap::error::Error, tap: &StatusTap) -> ActionError {
    ActionError::Connect(crate::imap::session::imap_error(step, e, tap))
}
