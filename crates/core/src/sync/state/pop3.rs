//! POP3 maildrops in the same store, under the same exactly-once rules as IMAP folders.
//!
//! POP3 has no UIDs, only each message's unique-id listing (`UIDL`, RFC 1939 §7): an opaque
//! string the server keeps for the message's life. Pushmail gives each unique-id it sees a
//! number of its own (`uid`, ascending in the order the server lists messages, which is the
//! order they arrived) and from then on treats the maildrop like an IMAP folder with
//! UIDVALIDITY [`POP3_UIDVALIDITY`]: a watermark (the lowest number not yet considered), the
//! `announced` rows, [`Store::record_announced`] after each announcement. So a crash repeats at
//! most the message in flight and never skips one, exactly as for IMAP.
//!
//! A unique-id that disappears from the listing (the mail client downloaded and deleted it)
//! keeps its number for [`GONE_KEEP_SECS`]: a server that lists a message again after a
//! glitch (a maildrop briefly locked or half-listed) gets the same number back, not a new one
//! that would be announced a second time.

use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};

use super::Sqlite;

/// The UIDVALIDITY a POP3 maildrop is stored under. IMAP UIDVALIDITY is never 0 (RFC 3501
/// `nz-number`), so an account switched between IMAP and POP3 starts over cleanly either way.
pub const POP3_UIDVALIDITY: u32 = 0;

/// The folder name a POP3 maildrop is stored, reported and counted under.
pub const POP3_FOLDER: &str = "INBOX";

/// How long a unique-id that left the listing keeps its number: a week covers any server
/// glitch, and bounds the table for mailboxes whose client deletes what it downloads.
pub const GONE_KEEP_SECS: i64 = 7 * 24 * 3600;

/// A maildrop's listing matched with what the store knows, after [`Store::pop3_reconcile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pop3Listing {
    /// Every listed message as (message number in this session, Pushmail's number), in the
    /// server's order.
    pub messages: Vec<(u32, u32)>,
    /// The lowest number not yet considered: messages numbered at or above it are new.
    pub watermark: u32,
    /// First look at this maildrop (or after a switch from IMAP): what is there now is the
    /// baseline, announced never.
    pub baseline: bool,
    /// Announced messages that are no longer on the server: their notifications can go.
    pub gone: Vec<u32>,
    /// Announced messages still on the server that the user has not opened their mail client
    /// for since: the account's count.
    pub unread: u32,
    /// None of the listed unique-ids was known, though at least [`RENUMBERED_MIN`] were on the
    /// server at the last listing and as many are listed now: the server gave its messages new
    /// ids (a migration, a rebuilt mailbox). What is "new" is then the whole maildrop; the
    /// caller announces it as found after an absence (one summary), never as live mail.
    pub renumbered: bool,
}

/// How many messages a maildrop must hold for a listing with no known unique-id to count as
/// renumbered (fewer: a mail client that took everything, and new mail since).
pub const RENUMBERED_MIN: usize = 10;

impl Sqlite {
    /// Matches the server's `UIDL` listing (message number, unique-id; already validated:
    /// unique ids) with the store, in one transaction: new unique-ids get the next numbers,
    /// returning ones lose their "gone" time, missing ones get it, and those gone longer than
    /// [`GONE_KEEP_SECS`] are forgotten. `now` is Unix seconds.
    pub fn pop3_reconcile(
        &self,
        account: &str,
        listing: &[(u32, String)],
        now: i64,
    ) -> Result<Pop3Listing> {
        let matched = self.pop3_match(account, listing, now, true)?;
        matched.context("a full POP3 listing always matches")
    }

    /// [`Store::pop3_reconcile`] for messages the server appended to a maildrop whose earlier
    /// messages are known to be unchanged (`added`: only the new ones): numbers for the new
    /// unique-ids, nothing marked gone. On a maildrop never seen, a full listing is needed:
    /// this is then the same baseline as [`Store::pop3_reconcile`] would make of `added`
    /// alone, so callers only use it after a full listing.
    pub fn pop3_reconcile_added(
        &self,
        account: &str,
        added: &[(u32, String)],
        now: i64,
    ) -> Result<Option<Pop3Listing>> {
        self.pop3_match(account, added, now, false)
    }

    fn pop3_match(
        &self,
        account: &str,
        listing: &[(u32, String)],
        now: i64,
        full: bool,
    ) -> Result<Option<Pop3Listing>> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let mark: Option<(u32, u32)> = tx
            .query_row(
                "SELECT uidvalidity, watermark FROM folder_mark WHERE account = ?1 AND folder = ?2",
                params![account, POP3_FOLDER],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let baseline = !matches!(mark, Some((POP3_UIDVALIDITY, _)));
        if baseline && !full {
            // A baseline from new mail alone would make every older message new at the next
            // full listing (the account was forgotten meanwhile, say): ask for a full one.
            return Ok(None);
        }
        if baseline {
            // Never seen, or last seen as an IMAP folder: nothing stored means anything now.
            tx.execute(
                "DELETE FROM announced WHERE account = ?1 AND folder = ?2",
                params![account, POP3_FOLDER],
            )?;
            tx.execute(
                "DELETE FROM pop3_message WHERE account = ?1",
                params![account],
            )?;
        }
        let stored_watermark = match mark {
            Some((POP3_UIDVALIDITY, w)) => w.max(1),
            _ => 1,
        };
        // Numbers only grow: past the watermark and past every number ever handed out.
        let max_uid: u32 = tx.query_row(
            "SELECT COALESCE(MAX(uid), 0) FROM pop3_message WHERE account = ?1",
            params![account],
            |r| r.get(0),
        )?;
        let mut next = stored_watermark.max(max_uid.saturating_add(1));

        // Messages on the server at the last listing, for telling a renumbered maildrop.
        let present_before: usize = if full {
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM pop3_message WHERE account = ?1 AND gone_since IS NULL",
                params![account],
                |r| r.get(0),
            )?;
            usize::try_from(n).unwrap_or(0)
        } else {
            0
        };
        let mut known_listed = 0usize;
        if full {
            tx.execute(
                "UPDATE pop3_message SET seen_now = 0 WHERE account = ?1",
                params![account],
            )?;
        }
        let mut messages = Vec::with_capacity(listing.len());
        {
            let mut find =
                tx.prepare_cached("SELECT uid FROM pop3_message WHERE account = ?1 AND uidl = ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO pop3_message (account, uidl, uid, gone_since, seen_now) VALUES (?1, ?2, ?3, NULL, 1)",
            )?;
            let mut touch = tx.prepare_cached(
                "UPDATE pop3_message SET gone_since = NULL, seen_now = 1 WHERE account = ?1 AND uidl = ?2",
            )?;
            for (n, uidl) in listing {
                let known: Option<u32> = find
                    .query_row(params![account, uidl], |r| r.get(0))
                    .optional()?;
                let uid = match known {
                    Some(uid) => {
                        touch.execute(params![account, uidl])?;
                        known_listed += 1;
                        uid
                    }
                    None => {
                        let uid = next;
                        next = next
                            .checked_add(1)
                            .context("POP3 message numbers are exhausted")?;
                        insert.execute(params![account, uidl, uid])?;
                        uid
                    }
                };
                messages.push((*n, uid));
            }
        }
        if full {
            tx.execute(
                "UPDATE pop3_message SET gone_since = ?2 WHERE account = ?1 AND seen_now = 0 AND gone_since IS NULL",
                params![account, now],
            )?;
            tx.execute(
                "DELETE FROM pop3_message WHERE account = ?1 AND gone_since IS NOT NULL AND gone_since < ?2",
                params![account, now.saturating_sub(GONE_KEEP_SECS)],
            )?;
        }
        let watermark = if baseline {
            tx.execute(
                "INSERT INTO folder_mark (account, folder, uidvalidity, watermark) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
                   watermark = excluded.watermark, highestmodseq = NULL",
                params![account, POP3_FOLDER, POP3_UIDVALIDITY, next],
            )?;
            next
        } else {
            stored_watermark
        };
        // Announced, and not on the server any more: gone from the count and the screen. (Only
        // a full listing can tell.)
        let gone: Vec<u32> = if !full {
            Vec::new()
        } else {
            let mut stmt = tx.prepare_cached(
                "SELECT a.uid FROM announced a
                 WHERE a.account = ?1 AND a.folder = ?2 AND a.uidvalidity = ?3
                   AND NOT EXISTS (SELECT 1 FROM pop3_message m
                                   WHERE m.account = a.account AND m.uid = a.uid AND m.seen_now = 1)
                 ORDER BY a.uid",
            )?;
            stmt.query_map(params![account, POP3_FOLDER, POP3_UIDVALIDITY], |r| {
                r.get(0)
            })?
            .collect::<Result<_, _>>()?
        };
        for uid in &gone {
            tx.execute(
                "DELETE FROM announced WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3 AND uid = ?4",
                params![account, POP3_FOLDER, POP3_UIDVALIDITY, uid],
            )?;
        }
        let unread: u32 = tx.query_row(
            "SELECT COUNT(*) FROM announced WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3",
            params![account, POP3_FOLDER, POP3_UIDVALIDITY],
            |r| r.get(0),
        )?;
        tx.commit().context("Saving the POP3 listing")?;
        let renumbered = full
            && !baseline
            && known_listed == 0
            && present_before >= RENUMBERED_MIN
            && listing.len() >= present_before;
        Ok(Some(Pop3Listing {
            messages,
            watermark,
            baseline,
            gone,
            unread,
            renumbered,
        }))
    }

    /// The user opened their mail client: every announced POP3 message counts as seen (POP3
    /// cannot say what was read). Returns the numbers whose notifications can go.
    pub fn pop3_clear(&self, account: &str) -> Result<Vec<u32>> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let cleared: Vec<u32> = {
            let mut stmt = tx.prepare_cached(
                "SELECT uid FROM announced WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3 ORDER BY uid",
            )?;
            stmt.query_map(params![account, POP3_FOLDER, POP3_UIDVALIDITY], |r| {
                r.get(0)
            })?
            .collect::<Result<_, _>>()?
        };
        tx.execute(
            "DELETE FROM announced WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3",
            params![account, POP3_FOLDER, POP3_UIDVALIDITY],
        )?;
        tx.commit()
            .context("Saving that the mail client was opened")?;
        Ok(cleared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(ids: &[&str]) -> Vec<(u32, String)> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| (i as u32 + 1, (*id).to_owned()))
            .collect()
    }

    #[test]
    fn the_first_listing_is_a_baseline_and_later_ones_number_new_mail_in_order() {
        let s = Sqlite::in_memory().unwrap();
        let first = s.pop3_reconcile("p", &listing(&["a", "b"]), 100).unwrap();
        assert!(first.baseline);
        assert_eq!(first.messages, vec![(1, 1), (2, 2)]);
        assert_eq!(first.watermark, 3, "nothing that was there is new");

        let second = s
            .pop3_reconcile("p", &listing(&["a", "b", "c", "d"]), 160)
            .unwrap();
        assert!(!second.baseline);
        assert_eq!(second.messages, vec![(1, 1), (2, 2), (3, 3), (4, 4)]);
        assert_eq!(second.watermark, 3, "c and d are new");

        // Announcing c raises the watermark; a crash before d is recorded keeps d new.
        s.record_announced("p", POP3_FOLDER, POP3_UIDVALIDITY, 3)
            .unwrap();
        let third = s
            .pop3_reconcile("p", &listing(&["a", "b", "c", "d"]), 220)
            .unwrap();
        assert_eq!(third.watermark, 4);
        assert_eq!(third.unread, 1);
    }

    #[test]
    fn appended_mail_is_numbered_without_listing_the_rest() {
        let s = Sqlite::in_memory().unwrap();
        s.pop3_reconcile("p", &listing(&["a", "b"]), 0).unwrap();
        s.record_announced("p", POP3_FOLDER, POP3_UIDVALIDITY, 2)
            .unwrap();
        let added = s
            .pop3_reconcile_added("p", &[(3, "c".to_owned()), (4, "d".to_owned())], 10)
            .unwrap()
            .unwrap();
        assert_eq!(added.messages, vec![(3, 3), (4, 4)]);
        assert_eq!(added.watermark, 3);
        assert!(
            added.gone.is_empty(),
            "a partial listing says nothing about the rest"
        );
        assert_eq!(added.unread, 1);
        // The next full listing still knows a and b (nothing was marked gone).
        let full = s
            .pop3_reconcile("p", &listing(&["a", "b", "c", "d"]), 20)
            .unwrap();
        assert_eq!(full.messages, vec![(1, 1), (2, 2), (3, 3), (4, 4)]);
    }

    #[test]
    fn new_mail_alone_never_makes_a_baseline_and_a_renumbered_maildrop_is_told() {
        let s = Sqlite::in_memory().unwrap();
        // Nothing stored (the account was forgotten meanwhile): a full listing is needed.
        assert_eq!(
            s.pop3_reconcile_added("p", &[(1, "x".to_owned())], 0)
                .unwrap(),
            None
        );
        let ids: Vec<String> = (0..12).map(|i| format!("old{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        s.pop3_reconcile("p", &listing(&refs), 0).unwrap();
        // A mail client took everything and one new message came: not renumbered.
        let one = s.pop3_reconcile("p", &listing(&["new"]), 10).unwrap();
        assert!(!one.renumbered);
        // Twelve messages, none known, where twelve were: the server renumbered them.
        let s = Sqlite::in_memory().unwrap();
        s.pop3_reconcile("p", &listing(&refs), 0).unwrap();
        let fresh: Vec<String> = (0..12).map(|i| format!("v2-{i}")).collect();
        let refs: Vec<&str> = fresh.iter().map(String::as_str).collect();
        let l = s.pop3_reconcile("p", &listing(&refs), 10).unwrap();
        assert!(l.renumbered);
    }

    #[test]
    fn a_message_that_leaves_and_comes_back_keeps_its_number() {
        let s = Sqlite::in_memory().unwrap();
        s.pop3_reconcile("p", &listing(&["a"]), 0).unwrap();
        let l = s.pop3_reconcile("p", &listing(&["a", "b"]), 10).unwrap();
        assert_eq!(l.messages[1], (2, 2));
        s.record_announced("p", POP3_FOLDER, POP3_UIDVALIDITY, 2)
            .unwrap();
        // The server lists nothing for a while (a glitch, or the client took everything).
        let empty = s.pop3_reconcile("p", &[], 20).unwrap();
        assert_eq!(empty.gone, vec![2], "its notification can go");
        assert_eq!(empty.unread, 0);
        // Back within the week: the same number, below the watermark, so not new again.
        let back = s.pop3_reconcile("p", &listing(&["a", "b"]), 30).unwrap();
        assert_eq!(back.messages, vec![(1, 1), (2, 2)]);
        assert_eq!(back.watermark, 3);
        // Gone for longer than the week: forgotten, and the table stays small.
        s.pop3_reconcile("p", &[], 40).unwrap();
        let later = s
            .pop3_reconcile("p", &listing(&["x"]), 40 + GONE_KEEP_SECS + 1)
            .unwrap();
        assert_eq!(later.messages, vec![(1, 3)], "numbers are never reused");
        let rows: u32 = s
            .lock()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM pop3_message", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[test]
    fn opening_the_mail_client_clears_the_count_and_a_switch_from_imap_starts_over() {
        let s = Sqlite::in_memory().unwrap();
        s.pop3_reconcile("p", &listing(&["a"]), 0).unwrap();
        s.pop3_reconcile("p", &listing(&["a", "b", "c"]), 1)
            .unwrap();
        for uid in [2, 3] {
            s.record_announced("p", POP3_FOLDER, POP3_UIDVALIDITY, uid)
                .unwrap();
        }
        assert_eq!(s.pop3_clear("p").unwrap(), vec![2, 3]);
        let l = s
            .pop3_reconcile("p", &listing(&["a", "b", "c"]), 2)
            .unwrap();
        assert_eq!((l.unread, l.watermark), (0, 4));

        // The same id used for an IMAP account before: its mark means nothing here.
        s.set_mark(
            "q",
            POP3_FOLDER,
            crate::sync::decide::FolderMark {
                uidvalidity: 77,
                watermark: 500,
            },
        )
        .unwrap();
        let q = s.pop3_reconcile("q", &listing(&["a"]), 0).unwrap();
        assert!(q.baseline);
        assert_eq!((q.messages.clone(), q.watermark), (vec![(1, 1)], 2));
    }
}
