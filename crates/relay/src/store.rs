//! The relay's sync store: pushmail-core's [`SyncBackend`] on PostgreSQL, shared by every
//! relay process, with every write **fenced by the lease** of the bucket the account is in.
//!
//! A write runs only while this process still holds the bucket at the epoch it claimed it with
//! (`bucket.owner = me AND epoch = e AND lease_until > now()`, checked inside the write's own
//! transaction with the bucket row locked `FOR SHARE`, so a takeover — which updates that row —
//! waits for the write or the write sees the takeover). A process that was paused past its
//! lease, or cut off from the database, therefore cannot record an announcement or enqueue a
//! delivery: the watcher sees a store failure and shows nothing more (`watch/memory.rs`), and
//! the lease loop stops it.
//!
//! Recording an announcement and enqueuing its deliveries (one outbox row per device and
//! webhook of the account's owner, bodies already encrypted) is one transaction: a message is
//! either recorded with all its deliveries queued, or neither. The unique key of `announced`
//! makes a second recording (another process after a takeover, or a retry) a no-op that
//! queues nothing.
//!
//! The watcher calls these methods from async code without `.await`; they block the worker
//! thread with `tokio::task::block_in_place` (the relay runs on the multi-threaded runtime).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{Context, Result, anyhow, bail};
use pushmail_core::event::NewMail;
use pushmail_core::sync::backend::SyncBackend;
use pushmail_core::sync::decide::FolderMark;
use pushmail_core::sync::state::Known;
use tokio_postgres::Transaction;

use crate::crypto::Key;
use crate::db::Db;
use crate::notice;

/// The bucket (and the epoch it was claimed at) of each account this process watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub bucket: i32,
    pub epoch: i64,
}

/// What the store shares with the rest of the process.
pub struct Shared {
    /// This process's name in `bucket.owner`.
    pub owner: String,
    /// Accounts watched by this process → their bucket and its epoch (set by `host`).
    pub held: RwLock<HashMap<String, Held>>,
    /// New mail handed over by the watcher just before it records it (`host` fills it from
    /// the engine's events; [`PgStore::record_announced`] takes it).
    pub pending: Mutex<HashMap<(String, String, u32, u32), NewMail>>,
    /// Seals webhook bodies.
    pub master: Key,
    /// The longest a fenced write may stay open: a third of the lease (see [`PgStore::fence`]).
    pub write_limit: std::time::Duration,
}

/// The PostgreSQL [`SyncBackend`].
pub struct PgStore {
    db: Db,
    shared: Arc<Shared>,
    rt: tokio::runtime::Handle,
}

impl PgStore {
    /// A store on `db`; must be created inside the multi-threaded runtime it will run on.
    pub fn new(db: Db, shared: Arc<Shared>) -> PgStore {
        PgStore {
            db,
            shared,
            rt: tokio::runtime::Handle::current(),
        }
    }

    fn block<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::task::block_in_place(|| self.rt.block_on(f))
    }

    fn held(&self, account: &str) -> Result<Held> {
        self.shared
            .held
            .read()
            .map_err(|_| anyhow!("lease table poisoned"))?
            .get(account)
            .copied()
            .ok_or_else(|| anyhow!("account {account} is no longer watched by this process"))
    }

    /// The fence: fails unless the account's bucket is still ours at the epoch we claimed
    /// it with. Call first inside the write's transaction.
    async fn fence(&self, tx: &Transaction<'_>, account: &str, what: &str) -> Result<Held> {
        let held = self.held(account)?;
        // The fence's row lock makes a takeover wait for a write in progress. A process frozen
        // mid-write (SIGSTOP, a VM pause) would make it wait for as long as it is frozen, and
        // `SKIP LOCKED` claims would pass the bucket by: the server ends a transaction left idle
        // longer than a third of the lease, which releases the lock (and the frozen process's
        // write fails when it wakes: nothing recorded, nothing enqueued).
        tx.batch_execute(&format!(
            "SET LOCAL idle_in_transaction_session_timeout = {}",
            self.shared.write_limit.as_millis().max(1)
        ))
        .await?;
        let ours = tx
            .query_opt(
                "SELECT 1 FROM bucket WHERE bucket = $1 AND owner = $2 AND epoch = $3
                   AND lease_until > now() FOR SHARE",
                &[&held.bucket, &self.shared.owner, &held.epoch],
            )
            .await?
            .is_some();
        if !ours {
            bail!(
                "{what}: this process's lease on bucket {} has ended; another relay process watches account {account} now",
                held.bucket
            );
        }
        Ok(held)
    }
}

fn i(v: u32) -> i64 {
    i64::from(v)
}

fn u(v: i64) -> u32 {
    u32::try_from(v.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX)
}

impl PgStore {
    /// One fenced statement in its own transaction (see [`PgStore::fence`]).
    fn fenced_write(
        &self,
        account: &str,
        what: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<()> {
        self.block(async {
            let mut client = self.db.get().await.context("Cannot reach the database")?;
            let tx = client.transaction().await?;
            self.fence(&tx, account, what).await?;
            tx.execute(sql, params).await?;
            tx.commit().await.with_context(|| what.to_owned())?;
            Ok(())
        })
    }
}

impl SyncBackend for PgStore {
    fn location(&self) -> String {
        "the relay's PostgreSQL database".to_owned()
    }

    fn check_writable(&self) -> Result<()> {
        self.block(async {
            let client = self.db.get().await.context("Cannot reach the database")?;
            client.execute("SELECT 1", &[]).await?;
            Ok(())
        })
    }

    fn mark(&self, account: &str, folder: &str) -> Result<Option<FolderMark>> {
        self.block(async {
            let client = self.db.get().await?;
            let row = client
                .query_opt(
                    "SELECT uidvalidity, watermark FROM folder_mark WHERE account = $1 AND folder = $2",
                    &[&account, &folder],
                )
                .await?;
            Ok(row.map(|r| FolderMark {
                uidvalidity: u(r.get(0)),
                watermark: u(r.get(1)),
            }))
        })
    }

    fn set_mark(&self, account: &str, folder: &str, mark: FolderMark) -> Result<()> {
        let (a, f) = (account.to_owned(), folder.to_owned());
        self.block(async {
            let mut client = self.db.get().await.context("Cannot reach the database")?;
            let tx = client.transaction().await?;
            self.fence(&tx, account, "Saving folder state").await?;
                tx.execute(
                    "DELETE FROM announced WHERE account = $1 AND folder = $2 AND (uidvalidity != $3 OR uid >= $4)",
                    &[&a, &f, &i(mark.uidvalidity), &i(mark.watermark)],
                )
                .await?;
                tx.execute(
                    "INSERT INTO folder_mark (account, folder, uidvalidity, watermark) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                       watermark = excluded.watermark,
                       highestmodseq = CASE WHEN folder_mark.uidvalidity = excluded.uidvalidity
                                            THEN folder_mark.highestmodseq END",
                    &[&a, &f, &i(mark.uidvalidity), &i(mark.watermark)],
                )
                .await?;

            tx.commit().await.context("Saving folder state")?;
            Ok(())
        })
    }

    fn modseq(&self, account: &str, folder: &str) -> Result<Option<Known>> {
        self.block(async {
            let client = self.db.get().await?;
            let row = client
                .query_opt(
                    "SELECT uidvalidity, highestmodseq FROM folder_mark WHERE account = $1 AND folder = $2",
                    &[&account, &folder],
                )
                .await?;
            Ok(row.and_then(|r| {
                let m: Option<i64> = r.get(1);
                let modseq = u64::try_from(m?).ok().filter(|m| *m > 0)?;
                Some(Known {
                    uidvalidity: u(r.get(0)),
                    modseq,
                })
            }))
        })
    }

    fn set_modseq(&self, account: &str, folder: &str, uidvalidity: u32, modseq: u64) -> Result<()> {
        let Ok(modseq) = i64::try_from(modseq) else {
            return Ok(());
        };
        self.fenced_write(
            account,
            "Saving folder state",
            "UPDATE folder_mark SET highestmodseq = $4 WHERE account = $1 AND folder = $2 AND uidvalidity = $3",
            &[&account, &folder, &i(uidvalidity), &modseq],
        )
    }

    fn record_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()> {
        self.record(account, folder, uidvalidity, uid, true)
    }

    fn record_announced_only(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()> {
        self.record(account, folder, uidvalidity, uid, false)
    }

    fn raise_watermark(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        watermark: u32,
    ) -> Result<()> {
        self.fenced_write(
            account,
            "Saving folder state",
            "UPDATE folder_mark SET watermark = GREATEST(watermark, $4)
             WHERE account = $1 AND folder = $2 AND uidvalidity = $3",
            &[&account, &folder, &i(uidvalidity), &i(watermark)],
        )
    }

    fn announced(&self, account: &str, folder: &str, uidvalidity: u32) -> Result<Vec<u32>> {
        self.block(async {
            let client = self.db.get().await?;
            let rows = client
                .query(
                    "SELECT uid FROM announced WHERE account = $1 AND folder = $2 AND uidvalidity = $3 ORDER BY uid",
                    &[&account, &folder, &i(uidvalidity)],
                )
                .await?;
            Ok(rows.iter().map(|r| u(r.get(0))).collect())
        })
    }

    fn forget_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()> {
        let uids: Vec<i64> = uids.iter().map(|&x| i(x)).collect();
        self.fenced_write(
            account,
            "Saving read messages",
            "DELETE FROM announced WHERE account = $1 AND folder = $2 AND uidvalidity = $3 AND uid = ANY($4)",
            &[&account, &folder, &i(uidvalidity), &uids],
        )
    }

    fn forget_account(&self, account: &str) -> Result<()> {
        // The API deletes the account row; its state goes with it (ON DELETE CASCADE).
        let _ = account;
        Ok(())
    }
}

impl PgStore {
    /// Records an announcement and queues its deliveries, fenced, in one transaction.
    fn record(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
        raise: bool,
    ) -> Result<()> {
        let key = (account.to_owned(), folder.to_owned(), uidvalidity, uid);
        let mail = self
            .shared
            .pending
            .lock()
            .map_err(|_| anyhow!("pending table poisoned"))?
            .get(&key)
            .cloned();
        let (a, f) = (account.to_owned(), folder.to_owned());
        let owner = self.shared.owner.clone();
        let epoch = self.held(account)?.epoch;
        self.block(async {
            let mut client = self.db.get().await.context("Cannot reach the database")?;
            let tx = client.transaction().await?;
            self.fence(&tx, account, "Saving an announcement").await?;
            let inserted = tx
                .execute(
                    "INSERT INTO announced (account, folder, uidvalidity, uid, recorded_by, epoch)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    &[&a, &f, &i(uidvalidity), &i(uid), &owner, &epoch],
                )
                .await?;
            if raise {
                tx.execute(
                    "UPDATE folder_mark SET watermark = GREATEST(watermark, $4)
                         WHERE account = $1 AND folder = $2 AND uidvalidity = $3",
                    &[&a, &f, &i(uidvalidity), &(i(uid) + 1)],
                )
                .await?;
            }
            // Only the first recording queues deliveries; a repeat (after a takeover the
            // new owner may meet a message the old one recorded) queues nothing.
            match (inserted, &mail) {
                (1, Some(mail)) => {
                    notice::enqueue(&tx, &self.shared.master, mail).await?;
                }
                (1, None) => tracing::warn!(
                    account,
                    uid,
                    "an announcement came without its message; nothing to deliver"
                ),
                _ => {}
            }

            tx.commit().await.context("Saving an announcement")?;
            Ok(())
        })?;
        if let Ok(mut p) = self.shared.pending.lock() {
            p.remove(&key);
        }
        Ok(())
    }
}
