//! CONDSTORE/QRESYNC (RFC 7162): resynchronising a folder after a reconnect at a cost that
//! depends on what changed, not on the folder's size.
//!
//! `SELECT folder (QRESYNC (uidvalidity modseq))` makes the server list, before its tagged OK,
//! the UIDs expunged since `modseq` (`* VANISHED (EARLIER) …`) and the messages whose flags
//! changed (`* n FETCH (UID … FLAGS (…) MODSEQ (…))`). async-imap has no QRESYNC SELECT and
//! would queue those lines as unsolicited responses (and drop them past 100), so the command is
//! sent raw and its responses read here, one by one.

use std::collections::HashSet;

use async_imap::Session;
use async_imap::error::{Error, Result};
use async_imap::types::Mailbox;
use imap_proto::{
    AttributeValue, MailboxDatum, Outcome, Response, ResponseCode, Status, StatusAttribute,
};

use super::rfc5465_notify::quote;
use super::transport::MailStream;
use crate::text::truncate_for_log;

/// What the store remembers to resync a folder: its UIDVALIDITY and HIGHESTMODSEQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known {
    pub uidvalidity: u32,
    pub modseq: u64,
}

/// What the server reported since the known HIGHESTMODSEQ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// UIDs expunged since then.
    pub vanished: HashSet<u32>,
    /// UIDs whose flags changed and that are now `\Seen`.
    pub seen: HashSet<u32>,
    /// Unread messages, from a STATUS asked just before the SELECT (filled in by the caller).
    pub unseen: Option<u32>,
}

/// The outcome of a SELECT, with or without QRESYNC.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resync {
    pub uidvalidity: Option<u32>,
    pub uidnext: Option<u32>,
    pub exists: u32,
    pub highestmodseq: Option<u64>,
    /// `Some` only when the server resynchronised (same UIDVALIDITY, QRESYNC accepted).
    pub changes: Option<Changes>,
    /// `STATUS` responses for other folders that NOTIFY sent while the SELECT ran: news for
    /// the caller, not part of this folder's outcome.
    pub statuses: Vec<(String, Vec<StatusAttribute>)>,
}

impl Resync {
    pub fn from_mailbox(m: Mailbox) -> Resync {
        Resync {
            uidvalidity: m.uid_validity,
            uidnext: m.uid_next,
            exists: m.exists,
            highestmodseq: m.highest_modseq,
            changes: None,
            statuses: Vec::new(),
        }
    }

    /// Folds one response of the SELECT into the outcome.
    pub fn absorb(&mut self, r: &Response<'_>) {
        match r {
            // RFC 7162 §3.2.11: everything before `* OK [CLOSED]` was about the folder selected
            // until now (flag changes, expunges, new mail reported late), not this one.
            Response::Data {
                status: Status::Ok,
                outcome,
            } if is_closed(outcome) => {
                let statuses = std::mem::take(&mut self.statuses);
                *self = Resync {
                    statuses,
                    ..Resync::default()
                };
            }
            Response::MailboxData(MailboxDatum::Status { mailbox, status }) => {
                self.statuses.push((mailbox.to_string(), status.clone()));
            }
            Response::Data {
                status: Status::Ok,
                outcome,
            } => match &outcome.code {
                Some(ResponseCode::UidValidity(v)) => self.uidvalidity = Some(*v),
                Some(ResponseCode::UidNext(n)) => self.uidnext = Some(*n),
                Some(ResponseCode::HighestModSeq(m)) => self.highestmodseq = Some(*m),
                _ => {}
            },
            Response::MailboxData(MailboxDatum::Exists(n)) => self.exists = *n,
            Response::Vanished { uids, .. } => {
                let c = self.changes.get_or_insert_with(Changes::default);
                for range in uids {
                    // A hostile server could send 1:4294967295; cap what one range may add.
                    for uid in range.clone().take(1_000_000) {
                        c.vanished.insert(uid);
                    }
                }
            }
            Response::Fetch(_, attrs) => {
                let uid = attrs.iter().find_map(|a| match a {
                    AttributeValue::Uid(u) => Some(*u),
                    _ => None,
                });
                let flags = attrs.iter().find_map(|a| match a {
                    AttributeValue::Flags(f) => Some(f),
                    _ => None,
                });
                if let (Some(uid), Some(flags)) = (uid, flags) {
                    let c = self.changes.get_or_insert_with(Changes::default);
                    if flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen")) {
                        c.seen.insert(uid);
                    } else {
                        c.seen.remove(&uid);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether an untagged OK is `* OK [CLOSED]` (RFC 7162 §3.2.11), the line that separates the
/// responses about the folder selected until now from those about the new one. imap-proto
/// does not know the code and leaves it in the text.
fn is_closed(outcome: &Outcome<'_>) -> bool {
    outcome.code.is_none()
        && outcome
            .information
            .as_deref()
            .is_some_and(|t| t.trim_start().to_ascii_uppercase().starts_with("[CLOSED]"))
}

/// The command, for a folder name already in modified UTF-7.
pub fn select_command(wire: &str, known: Known) -> String {
    format!(
        "SELECT {} (QRESYNC ({} {}))",
        quote(wire),
        known.uidvalidity,
        known.modseq
    )
}

/// `SELECT … (QRESYNC …)`, reading every response up to the tagged one. A server that
/// resynchronised reports `changes` (possibly empty); if UIDVALIDITY changed it sends none
/// and the caller starts over as without QRESYNC.
pub async fn select(session: &mut Session<MailStream>, wire: &str, known: Known) -> Result<Resync> {
    let tag = session.run_command(select_command(wire, known)).await?;
    let mut out = Resync::default();
    loop {
        let Some(resp) = session.read_response().await? else {
            return Err(Error::ConnectionLost);
        };
        match resp.parsed() {
            Response::Done {
                tag: t,
                status,
                outcome,
            } if *t == tag => {
                let information = &outcome.information;
                return match status {
                    Status::Ok => {
                        if out.uidvalidity == Some(known.uidvalidity) {
                            out.changes.get_or_insert_with(Changes::default);
                        } else {
                            out.changes = None;
                        }
                        Ok(out)
                    }
                    Status::No => Err(Error::No(truncate_for_log(
                        information.as_deref().unwrap_or(""),
                    ))),
                    _ => Err(Error::Bad(truncate_for_log(
                        information.as_deref().unwrap_or(""),
                    ))),
                };
            }
            r => out.absorb(r),
        }
    }
}

/// Announced messages that the resync says are gone or read: their notifications are
/// withdrawn (`seen` events).
pub fn withdrawn(announced: &HashSet<u32>, changes: &Changes) -> Vec<u32> {
    let mut out: Vec<u32> = announced
        .iter()
        .copied()
        .filter(|u| changes.vanished.contains(u) || changes.seen.contains(u))
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Response<'_> {
        let (rest, r) = imap_proto::Response::parse(line.as_bytes()).unwrap();
        assert!(rest.is_empty(), "{line}");
        r
    }

    fn absorb_all(lines: &[&str]) -> Resync {
        let mut out = Resync::default();
        for l in lines {
            out.absorb(&parse(l));
        }
        out
    }

    /// Dovecot 2.3's answer to `SELECT INBOX (QRESYNC (1700000000 120))` after 2 messages were
    /// deleted and 2 read on another device (recorded with a raw client).
    #[test]
    fn resync_transcript() {
        let lines = [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n",
            "* 98 EXISTS\r\n",
            "* 0 RECENT\r\n",
            "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n",
            "* OK [UIDNEXT 101] Predicted next UID\r\n",
            "* OK [HIGHESTMODSEQ 125] Highest\r\n",
            "* VANISHED (EARLIER) 7,9\r\n",
            "* 40 FETCH (UID 41 FLAGS (\\Seen) MODSEQ (123))\r\n",
            "* 41 FETCH (UID 42 FLAGS () MODSEQ (124))\r\n",
            "* 42 FETCH (UID 43 FLAGS (\\Seen \\Flagged) MODSEQ (125))\r\n",
        ];
        let out = absorb_all(&lines);
        assert_eq!(out.uidvalidity, Some(1_700_000_000));
        assert_eq!(out.uidnext, Some(101));
        assert_eq!(out.exists, 98);
        assert_eq!(out.highestmodseq, Some(125));
        let c = out.changes.unwrap();
        assert_eq!(c.vanished, HashSet::from([7, 9]));
        assert_eq!(c.seen, HashSet::from([41, 43]));
        let announced = HashSet::from([7, 8, 41, 42, 43, 99]);
        assert_eq!(withdrawn(&announced, &c), vec![7, 41, 43]);
    }

    /// With QRESYNC enabled Dovecot separates the old folder's news from the new one's with
    /// `[CLOSED]`; a NOTIFY STATUS for a third folder in between is kept for the caller.
    #[test]
    fn closed_separates_the_previous_folder_and_status_is_kept() {
        let lines = [
            "* 3 FETCH (UID 41 FLAGS (\\Seen) MODSEQ (90))\r\n",
            "* VANISHED 12\r\n",
            "* STATUS Lists (UIDNEXT 8 MESSAGES 7)\r\n",
            "* OK [CLOSED] Previous mailbox closed.\r\n",
            "* 5 EXISTS\r\n",
            "* OK [UIDVALIDITY 9] UIDs valid\r\n",
            "* OK [UIDNEXT 6] Predicted next UID\r\n",
            "* VANISHED (EARLIER) 2\r\n",
        ];
        let out = absorb_all(&lines);
        assert_eq!(out.exists, 5);
        assert_eq!((out.uidvalidity, out.uidnext), (Some(9), Some(6)));
        let c = out.changes.unwrap();
        assert_eq!(c.vanished, HashSet::from([2]), "12 was the old folder's");
        assert!(c.seen.is_empty(), "UID 41 was the old folder's");
        assert_eq!(out.statuses.len(), 1);
        assert_eq!(out.statuses[0].0, "Lists");
        assert!(out.statuses[0].1.contains(&StatusAttribute::UidNext(8)));
    }

    #[test]
    fn command_quotes_the_name() {
        let k = Known {
            uidvalidity: 5,
            modseq: 77,
        };
        assert_eq!(
            select_command("Lists/\"x\"", k),
            "SELECT \"Lists/\\\"x\\\"\" (QRESYNC (5 77))"
        );
    }
}
