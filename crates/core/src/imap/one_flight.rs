//! From LOGIN to IDLE in one round trip.
//!
//! Asked one at a time, the commands between LOGIN and "in push" cost a round trip each:
//! `ENABLE QRESYNC`, `SELECT INBOX`, the unread search, `NOTIFY SET`, `IDLE` — five RTTs, on a
//! 300 ms satellite link 1.5 s before the first push could arrive. None of them needs the
//! previous one's answer to be written: what to send follows from the capabilities (known
//! from LOGIN's `OK [CAPABILITY …]`) and from what the store remembers, and the server
//! executes them in order (RFC 3501 §5.5 allows any client to send several commands without
//! waiting; a command that depends on the state an earlier one sets — SEARCH after SELECT —
//! runs after it). So [`start`] writes them all, with async-imap's `IDLE` last, in one write,
//! and reads once: the answers to ours, then `+ idling`. Where the server advertises `ID`
//! and nothing was sent since login, the session's owed `ID` (`imap/rfc2971_id.rs`) leaves
//! first in the same write — before `SELECT`, which NetEase refuses without it — and its
//! answer is skipped by the byte layer, so [`read`] never sees it: no extra round trip.
//!
//! The answers to ours are held back from async-imap by the byte layer
//! ([`MailStream::ahead`], `transport/framing.rs`): async-imap's IDLE start would otherwise
//! read them as unsolicited lines and push them through its queue of 100, which drops the
//! rest of a big QRESYNC answer. They are read here ([`read`], pure and table-tested) into an
//! [`Answer`]; what the caller may act on without another command it acts on while already in
//! IDLE, and anything that needs one (new mail to fetch since the last session, a refusal)
//! costs a `DONE` and the usual path.
//!
//! A refusal never loses anything: every command is confirmed by its own tagged line, a
//! missing or unreadable answer makes [`Answer::usable`] false, and the caller then does
//! everything again the slow way. A server that takes the flight badly as a whole (no
//! `+ idling` in time) is an error; the watcher remembers it and does not try again on that
//! account until the program restarts.

use std::collections::HashSet;
use std::time::Duration;

use async_imap::Session;
use imap_proto::{MailboxDatum, Response, Status};

use super::rfc2177_idle::{self, Seen, Started, classify};
use super::rfc4731_esearch;
use super::rfc7162_qresync::{Known, Resync};
use super::transport::framing::{TaggedStatus, parse_tagged};
use super::transport::{MailStream, StatusTap};
use crate::error::{ConnectError, Step};
use crate::text::truncate_for_log;

/// What to send ahead of `IDLE`, in this order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// `ENABLE QRESYNC` first (RFC 7162: before the SELECT that uses it).
    pub enable_qresync: bool,
    /// The folder to select, in modified UTF-7.
    pub wire: String,
    /// With QRESYNC's parameters from the last session, if the store has them.
    pub known: Option<Known>,
    /// The unread search as ESEARCH (`RETURN (COUNT ALL)`) rather than a plain list.
    pub esearch: bool,
    /// `NOTIFY SET …`, if the session watches by NOTIFY.
    pub notify: Option<String>,
}

impl Plan {
    /// The command lines, in order.
    pub fn commands(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(4);
        if self.enable_qresync {
            out.push("ENABLE QRESYNC".to_owned());
        }
        out.push(match self.known {
            Some(known) => super::rfc7162_qresync::select_command(&self.wire, known),
            None => format!("SELECT {}", super::rfc5465_notify::quote(&self.wire)),
        });
        out.push(if self.esearch {
            rfc4731_esearch::UNSEEN.to_owned()
        } else {
            "UID SEARCH UNSEEN".to_owned()
        });
        if let Some(notify) = &self.notify {
            out.push(notify.clone());
        }
        out
    }
}

/// How the server finished one of our commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    /// The tagged line as the framer reads it: status, response code, the server's words
    /// (capped).
    pub status: TaggedStatus,
}

/// What the server answered to the flight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub enable: Option<Verdict>,
    pub select: Option<Verdict>,
    /// What the SELECT reported (UIDVALIDITY, UIDNEXT, EXISTS, HIGHESTMODSEQ; with QRESYNC,
    /// the changes since `known`, and NOTIFY's STATUS lines for other folders).
    pub selected: Resync,
    pub search: Option<Verdict>,
    /// The unread UIDs, when the search's answer was there and readable.
    pub unseen: Option<HashSet<u32>>,
    pub notify: Option<Verdict>,
    /// What the server said about the selected folder after the SELECT (new mail, flag
    /// changes during the search, NOTIFY's STATUS for other folders), in order.
    pub after: Vec<Seen>,
    /// Why the answer cannot be trusted as a whole (an unreadable line, a missing answer).
    pub broken: Option<String>,
}

impl Answer {
    /// The step of the first command of `plan` not answered yet, if any.
    fn pending(&self, plan: &Plan) -> Option<Step> {
        if plan.enable_qresync && self.enable.is_none() {
            Some(Step::EnablingQresync)
        } else if self.select.is_none() {
            Some(Step::SelectingFolder)
        } else if self.search.is_none() {
            Some(Step::CountingUnread)
        } else if plan.notify.is_some() && self.notify.is_none() {
            Some(Step::AskingForNotify)
        } else {
            None
        }
    }

    /// The folder is selected, its identity known and its unread set read: the watcher can
    /// settle it without asking anything more.
    pub fn usable(&self) -> bool {
        let ok = |v: &Option<Verdict>| v.as_ref().is_some_and(|v| v.ok);
        self.broken.is_none()
            && self.enable.as_ref().is_none_or(|v| v.ok)
            && ok(&self.select)
            && self.selected.uidvalidity.is_some()
            && self.selected.uidnext.is_some()
            && ok(&self.search)
            && self.unseen.is_some()
            && !self.after.iter().any(|s| matches!(s, Seen::Bye(_)))
    }
}

/// Sends `plan`'s commands and `IDLE` in one write and waits, at most `limit`, for
/// `+ idling`; then reads what the server answered to the commands — also when IDLE did not
/// start (a `* BYE` instead of `+ idling`): the SELECT's answer still tells where the mailbox
/// stood, which the next session catches up from.
pub async fn start(
    mut session: Session<MailStream>,
    plan: &Plan,
    limit: Duration,
    tap: &StatusTap,
) -> (Result<Started, ConnectError>, Answer) {
    let commands = plan.commands();
    let tags = session.get_mut().ahead(&commands);
    let started = rfc2177_idle::start(session, limit, tap).await;
    // Whatever happened, stop holding: the held lines are read here.
    let (held, complete) = tap.take_held();
    let mut answer = read(plan, &tags, &held);
    if !complete && answer.broken.is_none() {
        answer.broken = Some("the answers to our commands did not end".to_owned());
    }
    // A failure while the server was still answering one of ours is that command's.
    let started = started.map_err(|e| match answer.pending(plan) {
        Some(step) if !complete => e.at(step),
        _ => e,
    });
    (started, answer)
}

/// Which command a held response answers, by how many of our tagged lines came before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Enable,
    Select,
    Search,
    Notify,
}

/// Reads the held responses (`held`, each whole) to the commands of `plan`, tagged `tags`.
pub fn read(plan: &Plan, tags: &[String], held: &[Vec<u8>]) -> Answer {
    let mut parts = Vec::with_capacity(4);
    if plan.enable_qresync {
        parts.push(Part::Enable);
    }
    parts.extend([Part::Select, Part::Search]);
    if plan.notify.is_some() {
        parts.push(Part::Notify);
    }
    let mut answer = Answer::default();
    let mut searched = HashSet::new();
    let mut esearch = Vec::new();
    let mut plain_search = false;
    let mut at = 0;
    for bytes in held {
        let Some(&part) = parts.get(at) else {
            answer.broken = Some("a response after the last command's end".to_owned());
            break;
        };
        let text = || truncate_for_log(String::from_utf8_lossy(bytes).trim_end());
        if part == Part::Search && bytes.len() >= 9 && bytes[..9].eq_ignore_ascii_case(b"* ESEARCH")
        {
            esearch.push(bytes.clone());
            continue;
        }
        let Ok((_, response)) = Response::parse(bytes) else {
            answer.broken = Some(format!("unreadable: {}", text()));
            break;
        };
        match &response {
            Response::Done { tag, status, .. } => {
                if tags.get(at).map(String::as_str) != Some(tag.0.as_ref()) {
                    answer.broken = Some(format!("an answer out of order: {}", text()));
                    break;
                }
                let verdict = Verdict {
                    ok: *status == Status::Ok,
                    status: parse_tagged(bytes).unwrap_or_default(),
                };
                match part {
                    Part::Enable => answer.enable = Some(verdict),
                    Part::Select => answer.select = Some(verdict),
                    Part::Search => answer.search = Some(verdict),
                    Part::Notify => answer.notify = Some(verdict),
                }
                at += 1;
            }
            r if part == Part::Enable || part == Part::Select => answer.selected.absorb(r),
            Response::MailboxData(MailboxDatum::Search(uids)) if part == Part::Search => {
                plain_search = true;
                searched.extend(uids.iter().copied());
            }
            r => answer.after.push(classify(r)),
        }
    }
    if let (Some(known), Some(select)) = (plan.known, &answer.select)
        && select.ok
    {
        // As `rfc7162_qresync::select`: changes only when the server resynchronised.
        if answer.selected.uidvalidity == Some(known.uidvalidity) {
            answer.selected.changes.get_or_insert_with(Default::default);
        } else {
            answer.selected.changes = None;
        }
    }
    answer.after.retain(|s| *s != Seen::Other);
    if answer.search.as_ref().is_some_and(|v| v.ok) {
        answer.unseen = if plan.esearch && !plain_search {
            let tag = tags.get(parts.iter().position(|p| *p == Part::Search).unwrap_or(0));
            rfc4731_esearch::answer(&esearch, tag.map(String::as_str))
                .and_then(|a| rfc4731_esearch::members(&a))
                .map_err(|e| answer.broken = Some(e))
                .ok()
        } else if plain_search {
            Some(searched)
        } else {
            answer.broken = Some("no SEARCH answer".to_owned());
            None
        };
    }
    answer
}

#[cfg(test)]
mod tests;
