//! The sync store as an interface: what a watcher needs to remember so that every message is
//! announced exactly once across restarts, and the two places it can live.
//!
//! - [`Sqlite`](super::state::Sqlite): the desktop's, one file per user (`state.rs`).
//! - The relay's PostgreSQL store (`crates/relay`), shared by several relay processes: each of
//!   its writes is *fenced* by the lease of the process that makes it, so a process that lost an
//!   account (paused, partitioned) can no longer record or enqueue anything for it.
//!
//! The watchers call these methods from async code without `.await`: SQLite answers in
//! microseconds, and a backend that talks to a server blocks the watcher's worker thread in
//! its own way (the relay uses `tokio::task::block_in_place`). A write that fails is a store
//! failure to the watcher (`watch/memory.rs`): it shows nothing it cannot record until
//! [`SyncBackend::check_writable`] succeeds again.

use std::sync::Arc;

use anyhow::Result;

use super::decide::FolderMark;
use super::state::{Known, Pop3Listing};

/// What a sync store does; see the module documentation. `uidvalidity`/`uid` are IMAP's
/// (POP3 accounts use the numbers `state/pop3.rs` gives their unique-ids).
pub trait SyncBackend: Send + Sync + 'static {
    /// Where the state lives, for messages that must name it.
    fn location(&self) -> String;
    /// Whether a write can be committed now (one small real write).
    fn check_writable(&self) -> Result<()>;
    /// The folder's UIDVALIDITY and watermark, if known.
    fn mark(&self, account: &str, folder: &str) -> Result<Option<FolderMark>>;
    /// Replaces the folder's mark; on a UIDVALIDITY change the old announcements go too.
    fn set_mark(&self, account: &str, folder: &str, mark: FolderMark) -> Result<()>;
    /// The folder's HIGHESTMODSEQ as of the last full look.
    fn modseq(&self, account: &str, folder: &str) -> Result<Option<Known>>;
    /// Remembers HIGHESTMODSEQ for the folder's current UIDVALIDITY.
    fn set_modseq(&self, account: &str, folder: &str, uidvalidity: u32, modseq: u64) -> Result<()>;
    /// Records that `uid` was announced and raises the watermark past it, atomically.
    fn record_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()>;
    /// Records that `uid` was announced without moving the watermark.
    fn record_announced_only(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()>;
    /// Raises the watermark (never lowers it).
    fn raise_watermark(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        watermark: u32,
    ) -> Result<()>;
    /// UIDs announced and not yet reported read.
    fn announced(&self, account: &str, folder: &str, uidvalidity: u32) -> Result<Vec<u32>>;
    /// Forgets announcements that have been reported read (or deleted).
    fn forget_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()>;
    /// Drops all state of an account (when it is removed).
    fn forget_account(&self, account: &str) -> Result<()>;

    /// POP3: matches a full `UIDL` listing with the store (`state/pop3.rs`). A backend that
    /// keeps no POP3 state refuses, and the account's watcher reports a store error.
    fn pop3_reconcile(
        &self,
        account: &str,
        listing: &[(u32, String)],
        now: i64,
    ) -> Result<Pop3Listing> {
        let _ = (account, listing, now);
        Err(no_pop3(self))
    }
    /// POP3: matches messages appended to a known maildrop.
    fn pop3_reconcile_added(
        &self,
        account: &str,
        added: &[(u32, String)],
        now: i64,
    ) -> Result<Option<Pop3Listing>> {
        let _ = (account, added, now);
        Err(no_pop3(self))
    }
    /// POP3: the user opened their mail client; every announced message counts as seen.
    fn pop3_clear(&self, account: &str) -> Result<Vec<u32>> {
        let _ = account;
        Err(no_pop3(self))
    }
}

fn no_pop3<B: SyncBackend + ?Sized>(backend: &B) -> anyhow::Error {
    anyhow::anyhow!(
        "The sync store {} does not keep POP3 state",
        backend.location()
    )
}

/// A handle to the sync store the watchers use: cheap to clone, safe to share between tasks.
/// Its methods are [`SyncBackend`]'s.
#[derive(Clone)]
pub struct Store(Arc<dyn SyncBackend>);

impl Store {
    /// A store on any backend (the relay's PostgreSQL store).
    pub fn from_backend(backend: Arc<dyn SyncBackend>) -> Store {
        Store(backend)
    }
}

impl std::ops::Deref for Store {
    type Target = dyn SyncBackend;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
