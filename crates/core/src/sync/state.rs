//! The durable sync state: per-folder UIDVALIDITY and watermark, and which messages were
//! announced (so `seen` can name them after a restart, and nothing is announced twice).
//!
//! SQLite in WAL mode with `synchronous = NORMAL`: each announcement is its own small
//! transaction; a `kill -9` loses nothing that was committed (the WAL is in the OS's hands), and
//! a power cut loses at most the last few, which the watermark then re-announces once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

pub use super::backend::{Store, SyncBackend};
use super::decide::FolderMark;
pub use crate::imap::rfc7162_qresync::Known;

mod pop3;
pub use pop3::{GONE_KEEP_SECS, POP3_FOLDER, POP3_UIDVALIDITY, Pop3Listing};

/// How many announced UIDs are remembered per folder; older ones can no longer produce a
/// `seen` event, which only matters for notifications long gone from the screen.
const ANNOUNCED_KEEP: i64 = 1000;

/// The desktop's sync store: one SQLite file. Cheap to clone, safe to share between watcher
/// tasks; used through [`Store`].
#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    /// The database file, for messages that must name it (`None` in memory).
    path: Option<Arc<Path>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sqlite")
    }
}

impl Sqlite {
    /// `$XDG_STATE_HOME/pushmail/state.sqlite3` (or `~/.local/state/…`).
    pub fn default_path() -> Result<PathBuf> {
        let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
            Some(v) => PathBuf::from(v),
            None => PathBuf::from(
                std::env::var_os("HOME").context("Neither XDG_STATE_HOME nor HOME is set")?,
            )
            .join(".local/state"),
        };
        Ok(base.join("pushmail").join("state.sqlite3"))
    }

    /// Opens (creating if needed, directory 0700) the database at `path`.
    pub fn open(path: &Path) -> Result<Sqlite> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("Cannot open the state database {}", path.display()))?;
        Self::init(conn, Some(path.into()))
            .with_context(|| format!("Cannot use the state database {}", path.display()))
    }

    /// An in-memory store, for tests and `account test`.
    pub fn in_memory() -> Result<Sqlite> {
        Self::init(Connection::open_in_memory()?, None)
    }

    /// The database file, or `(in memory)`.
    pub fn location(&self) -> String {
        self.path
            .as_deref()
            .map_or_else(|| "(in memory)".to_owned(), |p| p.display().to_string())
    }

    /// Whether a write can be committed now: one small real write, as an announcement would
    /// make. After a failed write (a full disk) the watcher asks this before it announces
    /// anything, so a message is only ever shown when it can also be recorded.
    pub fn check_writable(&self) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO write_check (id, n) VALUES (1, random())
             ON CONFLICT (id) DO UPDATE SET n = excluded.n",
            [],
        )
        .context("Writing to the state database")?;
        Ok(())
    }

    fn init(conn: Connection, path: Option<Arc<Path>>) -> Result<Sqlite> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS folder_mark (
                 account TEXT NOT NULL, folder TEXT NOT NULL,
                 uidvalidity INTEGER NOT NULL, watermark INTEGER NOT NULL,
                 PRIMARY KEY (account, folder));
             CREATE TABLE IF NOT EXISTS announced (
                 account TEXT NOT NULL, folder TEXT NOT NULL,
                 uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
                 PRIMARY KEY (account, folder, uidvalidity, uid));
             CREATE TABLE IF NOT EXISTS write_check (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS pop3_message (
                 account TEXT NOT NULL, uidl TEXT NOT NULL, uid INTEGER NOT NULL,
                 gone_since INTEGER, seen_now INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (account, uidl));",
        )?;
        migrate(&conn)?;
        let ok: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        anyhow::ensure!(
            ok == "ok",
            "State database failed its integrity check: {ok}"
        );
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| anyhow::anyhow!("State database lock poisoned"))
    }

    pub fn mark(&self, account: &str, folder: &str) -> Result<Option<FolderMark>> {
        let conn = self.lock()?;
        conn.query_row(
            "SELECT uidvalidity, watermark FROM folder_mark WHERE account = ?1 AND folder = ?2",
            params![account, folder],
            |r| {
                Ok(FolderMark {
                    uidvalidity: r.get(0)?,
                    watermark: r.get(1)?,
                })
            },
        )
        .optional()
        .context("Reading folder state")
    }

    /// Replaces the folder's mark; on a UIDVALIDITY change the old announcements go too.
    pub fn set_mark(&self, account: &str, folder: &str, mark: FolderMark) -> Result<()> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM announced WHERE account = ?1 AND folder = ?2 AND (uidvalidity != ?3 OR uid >= ?4)",
            params![account, folder, mark.uidvalidity, mark.watermark],
        )?;
        tx.execute(
            "INSERT INTO folder_mark (account, folder, uidvalidity, watermark) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, watermark = excluded.watermark,
               highestmodseq = CASE WHEN folder_mark.uidvalidity = excluded.uidvalidity THEN folder_mark.highestmodseq END",
            params![account, folder, mark.uidvalidity, mark.watermark],
        )?;
        tx.commit().context("Saving folder state")
    }

    /// The folder's HIGHESTMODSEQ as of the last full look (CONDSTORE/QRESYNC servers only).
    pub fn modseq(&self, account: &str, folder: &str) -> Result<Option<Known>> {
        let conn = self.lock()?;
        let row: Option<(u32, Option<i64>)> = conn
            .query_row(
                "SELECT uidvalidity, highestmodseq FROM folder_mark WHERE account = ?1 AND folder = ?2",
                params![account, folder],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .context("Reading folder state")?;
        Ok(row.and_then(|(uidvalidity, m)| {
            let modseq = u64::try_from(m?).ok().filter(|m| *m > 0)?;
            Some(Known {
                uidvalidity,
                modseq,
            })
        }))
    }

    /// Remembers HIGHESTMODSEQ for the folder's current UIDVALIDITY. Call it only once every
    /// change up to `modseq` has been taken into account.
    pub fn set_modseq(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        modseq: u64,
    ) -> Result<()> {
        // RFC 7162 mod-sequences are 63-bit; anything larger is not stored (no resync then).
        let Ok(modseq) = i64::try_from(modseq) else {
            return Ok(());
        };
        let conn = self.lock()?;
        conn.execute(
            "UPDATE folder_mark SET highestmodseq = ?4 WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3",
            params![account, folder, uidvalidity, modseq],
        )?;
        Ok(())
    }

    /// Records that `uid` was announced and raises the watermark past it, atomically.
    pub fn record_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO announced (account, folder, uidvalidity, uid) VALUES (?1, ?2, ?3, ?4)",
            params![account, folder, uidvalidity, uid],
        )?;
        tx.execute(
            "UPDATE folder_mark SET watermark = MAX(watermark, ?4) WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3",
            params![account, folder, uidvalidity, i64::from(uid) + 1],
        )?;
        tx.execute(
            "DELETE FROM announced WHERE account = ?1 AND folder = ?2 AND uid <
               (SELECT uid FROM announced WHERE account = ?1 AND folder = ?2 ORDER BY uid DESC LIMIT 1 OFFSET ?3)",
            params![account, folder, ANNOUNCED_KEEP],
        )?;
        tx.commit().context("Saving an announcement")
    }

    /// Records that `uid` was announced without moving the watermark: a message announced
    /// from a push above a UID gap (`watch/conn/announce.rs`), which the next fetch skips.
    pub fn record_announced_only(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT OR IGNORE INTO announced (account, folder, uidvalidity, uid) VALUES (?1, ?2, ?3, ?4)",
            params![account, folder, uidvalidity, uid],
        )
        .context("Saving an announcement")?;
        Ok(())
    }

    /// Raises the watermark (never lowers it).
    pub fn raise_watermark(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        watermark: u32,
    ) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "UPDATE folder_mark SET watermark = MAX(watermark, ?4) WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3",
            params![account, folder, uidvalidity, watermark],
        )?;
        Ok(())
    }

    /// UIDs announced and not yet reported read.
    pub fn announced(&self, account: &str, folder: &str, uidvalidity: u32) -> Result<Vec<u32>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT uid FROM announced WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3 ORDER BY uid",
        )?;
        let rows = stmt.query_map(params![account, folder, uidvalidity], |r| r.get(0))?;
        rows.collect::<Result<Vec<u32>, _>>()
            .context("Reading announcements")
    }

    /// Forgets announcements that have been reported read (or deleted).
    pub fn forget_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        for uid in uids {
            tx.execute(
                "DELETE FROM announced WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3 AND uid = ?4",
                params![account, folder, uidvalidity, uid],
            )?;
        }
        tx.commit().context("Saving read messages")
    }

    /// Drops all state of an account (when it is removed).
    pub fn forget_account(&self, account: &str) -> Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "DELETE FROM folder_mark WHERE account = ?1",
            params![account],
        )?;
        conn.execute("DELETE FROM announced WHERE account = ?1", params![account])?;
        conn.execute(
            "DELETE FROM pop3_message WHERE account = ?1",
            params![account],
        )?;
        Ok(())
    }
}

/// Schema version 2 adds `folder_mark.highestmodseq` (QRESYNC). Databases written by older
/// versions are upgraded in place; the column starts empty, so their first reconnect is a
/// full one.
const SCHEMA_VERSION: i64 = 2;

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let has_column = conn
        .prepare("SELECT 1 FROM pragma_table_info('folder_mark') WHERE name = 'highestmodseq'")?
        .exists([])?;
    if !has_column {
        conn.execute_batch("ALTER TABLE folder_mark ADD COLUMN highestmodseq INTEGER")
            .context("Upgrading the state database")?;
    }
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("Cannot create {}", dir.display()))
}

impl Store {
    /// `$XDG_STATE_HOME/pushmail/state.sqlite3` (or `~/.local/state/…`).
    pub fn default_path() -> Result<PathBuf> {
        Sqlite::default_path()
    }

    /// The desktop's store: the SQLite database at `path` (see [`Sqlite::open`]).
    pub fn open(path: &Path) -> Result<Store> {
        Ok(Store::from_backend(Arc::new(Sqlite::open(path)?)))
    }

    /// An in-memory SQLite store, for tests and `account test`.
    pub fn in_memory() -> Result<Store> {
        Ok(Store::from_backend(Arc::new(Sqlite::in_memory()?)))
    }
}

/// The trait's methods are [`Sqlite`]'s own (inherent, above and in `state/pop3.rs`).
impl SyncBackend for Sqlite {
    fn location(&self) -> String {
        Sqlite::location(self)
    }
    fn check_writable(&self) -> Result<()> {
        Sqlite::check_writable(self)
    }
    fn mark(&self, account: &str, folder: &str) -> Result<Option<FolderMark>> {
        Sqlite::mark(self, account, folder)
    }
    fn set_mark(&self, account: &str, folder: &str, mark: FolderMark) -> Result<()> {
        Sqlite::set_mark(self, account, folder, mark)
    }
    fn modseq(&self, account: &str, folder: &str) -> Result<Option<Known>> {
        Sqlite::modseq(self, account, folder)
    }
    fn set_modseq(&self, account: &str, folder: &str, uidvalidity: u32, modseq: u64) -> Result<()> {
        Sqlite::set_modseq(self, account, folder, uidvalidity, modseq)
    }
    fn record_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()> {
        Sqlite::record_announced(self, account, folder, uidvalidity, uid)
    }
    fn record_announced_only(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
    ) -> Result<()> {
        Sqlite::record_announced_only(self, account, folder, uidvalidity, uid)
    }
    fn raise_watermark(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        watermark: u32,
    ) -> Result<()> {
        Sqlite::raise_watermark(self, account, folder, uidvalidity, watermark)
    }
    fn announced(&self, account: &str, folder: &str, uidvalidity: u32) -> Result<Vec<u32>> {
        Sqlite::announced(self, account, folder, uidvalidity)
    }
    fn forget_announced(
        &self,
        account: &str,
        folder: &str,
        uidvalidity: u32,
        uids: &[u32],
    ) -> Result<()> {
        Sqlite::forget_announced(self, account, folder, uidvalidity, uids)
    }
    fn forget_account(&self, account: &str) -> Result<()> {
        Sqlite::forget_account(self, account)
    }
    fn pop3_reconcile(
        &self,
        account: &str,
        listing: &[(u32, String)],
        now: i64,
    ) -> Result<Pop3Listing> {
        Sqlite::pop3_reconcile(self, account, listing, now)
    }
    fn pop3_reconcile_added(
        &self,
        account: &str,
        added: &[(u32, String)],
        now: i64,
    ) -> Result<Option<Pop3Listing>> {
        Sqlite::pop3_reconcile_added(self, account, added, now)
    }
    fn pop3_clear(&self, account: &str) -> Result<Vec<u32>> {
        Sqlite::pop3_clear(self, account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_announcements_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/state.sqlite3");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(s.mark("a", "INBOX").unwrap(), None);
            s.set_mark(
                "a",
                "INBOX",
                FolderMark {
                    uidvalidity: 5,
                    watermark: 10,
                },
            )
            .unwrap();
            s.record_announced("a", "INBOX", 5, 10).unwrap();
            s.record_announced("a", "INBOX", 5, 12).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.mark("a", "INBOX").unwrap(),
            Some(FolderMark {
                uidvalidity: 5,
                watermark: 13
            })
        );
        assert_eq!(s.announced("a", "INBOX", 5).unwrap(), vec![10, 12]);
        s.forget_announced("a", "INBOX", 5, &[10]).unwrap();
        assert_eq!(s.announced("a", "INBOX", 5).unwrap(), vec![12]);
        // New UIDVALIDITY drops the old announcements.
        s.set_mark(
            "a",
            "INBOX",
            FolderMark {
                uidvalidity: 6,
                watermark: 1,
            },
        )
        .unwrap();
        assert!(s.announced("a", "INBOX", 5).unwrap().is_empty());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn old_databases_are_upgraded_and_modseq_follows_uidvalidity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite3");
        {
            // The schema as version 1 wrote it.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE folder_mark (account TEXT NOT NULL, folder TEXT NOT NULL,
                   uidvalidity INTEGER NOT NULL, watermark INTEGER NOT NULL,
                   PRIMARY KEY (account, folder));
                 INSERT INTO folder_mark VALUES ('a', 'INBOX', 7, 42);",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.mark("a", "INBOX").unwrap().unwrap().watermark, 42);
        assert_eq!(s.modseq("a", "INBOX").unwrap(), None);
        s.set_modseq("a", "INBOX", 7, 900).unwrap();
        assert_eq!(
            s.modseq("a", "INBOX").unwrap(),
            Some(Known {
                uidvalidity: 7,
                modseq: 900
            })
        );
        // Same UIDVALIDITY: the modseq stays; a new one forgets it.
        s.set_mark(
            "a",
            "INBOX",
            FolderMark {
                uidvalidity: 7,
                watermark: 50,
            },
        )
        .unwrap();
        assert!(s.modseq("a", "INBOX").unwrap().is_some());
        s.set_mark(
            "a",
            "INBOX",
            FolderMark {
                uidvalidity: 8,
                watermark: 1,
            },
        )
        .unwrap();
        assert_eq!(s.modseq("a", "INBOX").unwrap(), None);
        drop(s);
        // Opening again is a no-op.
        let s = Store::open(&path).unwrap();
        assert_eq!(s.mark("a", "INBOX").unwrap().unwrap().uidvalidity, 8);
    }

    #[test]
    fn watermark_never_goes_down_by_announcing() {
        let s = Store::in_memory().unwrap();
        s.set_mark(
            "a",
            "f",
            FolderMark {
                uidvalidity: 1,
                watermark: 50,
            },
        )
        .unwrap();
        s.record_announced("a", "f", 1, 20).unwrap();
        assert_eq!(s.mark("a", "f").unwrap().unwrap().watermark, 50);
        s.raise_watermark("a", "f", 1, 40).unwrap();
        assert_eq!(s.mark("a", "f").unwrap().unwrap().watermark, 50);
    }

    #[test]
    fn announced_is_bounded() {
        let s = Store::in_memory().unwrap();
        s.set_mark(
            "a",
            "f",
            FolderMark {
                uidvalidity: 1,
                watermark: 1,
            },
        )
        .unwrap();
        for uid in 1..=1100 {
            s.record_announced("a", "f", 1, uid).unwrap();
        }
        let kept = s.announced("a", "f", 1).unwrap();
        assert!(kept.len() <= 1001, "{}", kept.len());
        assert_eq!(kept.last(), Some(&1100));
    }
}
