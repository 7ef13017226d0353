//! Ending IDLE and fetching new mail in one round trip.
//!
//! The plain way costs two: `DONE`, wait for IDLE's tagged `OK`, `UID FETCH`, wait for the
//! headers — +200 ms after every new message on a 100 ms link. RFC 2177 lets the client send
//! the next command right behind `DONE` (the server reads the IDLE's end first and answers
//! the two in order), so [`done_and_fetch`] writes `DONE\r\nP1 UID FETCH …\r\n` in one go and
//! only then reads: IDLE's `OK`, then the FETCH's answer.
//!
//! async-imap can send a command without reading its answer (`Session::run_command`), but
//! only on a `Session`, and the one way from an IDLE `Handle` back to its session is
//! `Handle::done`, which sends `DONE` and reads up to IDLE's `OK` in the same call. So the
//! FETCH rides on our own stream: [`MailStream::pipeline`] queues it (tagged `P<n>`, a prefix
//! async-imap never uses) to leave in the same write as the `DONE` async-imap writes next.
//! Once `done` has read IDLE's `OK`, the FETCH's answer is read here, response by response.
//!
//! Odd servers lose and repeat nothing, because only the FETCH's own tagged `OK` vouches for
//! what it returned, and anything else is an error with no partial result: the caller drops
//! the session, reconnects and catches up from its watermark, which nothing here has moved —
//! a `* BYE` between the two answers and a close, a `NO` or `BAD` to the FETCH, a connection
//! that ends right after IDLE's `OK`, a server too slow for `done_timeout` or
//! `command_timeout`. A FETCH answer in the same segment as IDLE's `OK` is simply left in
//! async-imap's buffer and read next. (A server that answered the FETCH *before* IDLE's `OK`
//! would break RFC 2177; async-imap would file that tagged line as unsolicited, and the wait
//! for it here ends after `command_timeout`: a reconnect, nothing lost.)

use std::collections::BTreeMap;
use std::time::Duration;

use async_imap::Session;
use imap_proto::{AttributeValue, MessageSection, Response, SectionPath, Status};
use tokio::time::timeout;

use super::internal_date::InternalDate;
use super::rfc2177_idle::{Idle, Seen, classify, classify_unsolicited, done};
use super::session::imap_error;
use super::transport::{MailStream, StatusTap};
use crate::error::{ConnectError, NetCause, ProtoCause, Step};

/// One message as the pipelined `UID FETCH` returned it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchedMessage {
    pub uid: u32,
    /// `\Seen` among its flags (the last FLAGS the server sent for it).
    pub seen: bool,
    /// The `BODY[HEADER…]` section, if asked for and sent (possibly cut by a partial fetch).
    pub header: Option<Vec<u8>>,
    /// `INTERNALDATE`, if asked for, sent and readable: when it reached the server.
    pub received: Option<InternalDate>,
}

/// What ending IDLE with a pipelined `UID FETCH` brought, all of it vouched for by the
/// FETCH's tagged `OK`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipelined {
    /// The messages in the set, one entry per UID (a server may split a message's items over
    /// several FETCH responses; they are merged), in UID order.
    pub fetched: Vec<FetchedMessage>,
    /// Every other line the server sent from `DONE` to the FETCH's `OK`, in order, as
    /// [`classify`] reads it: EXISTS, EXPUNGE, VANISHED, NOTIFY's STATUS, a FETCH of a
    /// message outside the set (a flag change: [`Seen::Flags`] with its UID, [`Seen::Change`]
    /// without), a `* BYE`; keepalives are left out. It starts with what async-imap queued as
    /// unsolicited while it read up to IDLE's `OK` (its channel is emptied here), so the caller
    /// has one list. A [`Seen::Bye`] here came with a FETCH the server still finished:
    /// announce `fetched`, then end the session.
    pub seen: Vec<Seen>,
}

/// Ends `idle` with `DONE` and sends `UID FETCH set query` in the same write, before reading
/// anything: one round trip. IDLE's tagged `OK` must arrive within `done_limit` (as for
/// [`done`]: `Timeout(EndingIdle)`, the link is dead), the FETCH's within `fetch_limit` after
/// it (`Timeout(FetchingNew)`).
///
/// Only the FETCH's tagged `OK` confirms it: a `NO` or `BAD` is a refusal at
/// [`Step::FetchingNew`] with the server's words (like `session::run`'s), the stream ending
/// before it is [`NetCause::Closed`] (or [`NetCause::Bye`] with the words of the `* BYE` that
/// came first); bytes beyond the framer's limits in the same read as IDLE's `OK` count as the
/// FETCH's. On any error the session is gone and nothing fetched is returned.
pub async fn done_and_fetch(
    mut idle: Idle,
    set: &str,
    query: &str,
    done_limit: Duration,
    fetch_limit: Duration,
    tap: &StatusTap,
) -> Result<(Session<MailStream>, Pipelined), ConnectError> {
    debug_assert!(
        !(set.contains(['\r', '\n']) || query.contains(['\r', '\n'])),
        "a command line is one line"
    );
    let tag = idle.as_mut().pipeline(&format!("UID FETCH {set} {query}"));
    let mut session = done(idle, done_limit, tap).await.map_err(|e| match e {
        // The framer checks every byte of each read, so the FETCH's first bytes, read with
        // IDLE's OK, are refused while async-imap still reads for DONE: they are the FETCH's.
        ConnectError::Protocol {
            cause: ProtoCause::Limit(_),
            ..
        } => e.at(Step::FetchingNew),
        e => e,
    })?;
    let mut out = Pipelined::default();
    // What async-imap filed as unsolicited while it read up to IDLE's OK came first.
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        push(&mut out.seen, classify_unsolicited(&r));
    }
    let lowest = lowest_uid(set);
    let mut fetched = BTreeMap::<u32, FetchedMessage>::new();
    let answer = timeout(fetch_limit, async {
        loop {
            let response = match session.read_response().await {
                Ok(Some(r)) => r,
                Ok(None) => return Err(closed(tap)),
                Err(e) => return Err(imap_error(Step::FetchingNew, e.into(), tap)),
            };
            match response.parsed() {
                Response::Done {
                    tag: t,
                    status,
                    outcome,
                } if t.0 == tag => {
                    return match status {
                        Status::Ok => Ok(()),
                        _ => Err(ConnectError::protocol(ProtoCause::Refused)
                            .with_words(outcome.information.as_deref().unwrap_or_default())
                            .at(Step::FetchingNew)),
                    };
                }
                Response::Fetch(_, attributes) if absorb(attributes, lowest, &mut fetched) => {}
                other => push(&mut out.seen, classify(other)),
            }
        }
    })
    .await;
    match answer {
        Err(_) => Err(ConnectError::Timeout(Step::FetchingNew)),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => {
            out.fetched = fetched.into_values().collect();
            Ok((session, out))
        }
    }
}

/// The stream ended before the FETCH's tagged line: a goodbye's words if one came.
fn closed(tap: &StatusTap) -> ConnectError {
    match tap.take_bye() {
        Some(said) => ConnectError::network(NetCause::Bye).with_words(said),
        None => ConnectError::network(NetCause::Closed),
    }
    .at(Step::FetchingNew)
}

/// Keeps what a watcher acts on; keepalives and the like are left out.
fn push(seen: &mut Vec<Seen>, line: Seen) {
    if line != Seen::Other {
        seen.push(line);
    }
}

/// Folds one `* n FETCH` of a message in the set into the messages fetched (true). One
/// without a UID, or with a UID below the set, is not part of the answer (false): a flag change
/// the server reports on its own, for [`classify`] to read (`N:*` with N above the highest UID
/// also matches the last message, RFC 3501 §6.4.8; that one is below the set too, and is read
/// as its flags).
fn absorb(
    attributes: &[AttributeValue<'_>],
    lowest: u32,
    fetched: &mut BTreeMap<u32, FetchedMessage>,
) -> bool {
    let uid = attributes.iter().find_map(|a| match a {
        AttributeValue::Uid(u) => Some(*u),
        _ => None,
    });
    let Some(uid) = uid.filter(|u| *u >= lowest) else {
        return false;
    };
    let message = fetched.entry(uid).or_insert_with(|| FetchedMessage {
        uid,
        ..FetchedMessage::default()
    });
    for a in attributes {
        match a {
            AttributeValue::Flags(flags) => {
                message.seen = flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen"));
            }
            AttributeValue::BodySection {
                section: Some(SectionPath::Full(MessageSection::Header)),
                data: Some(bytes),
                ..
            }
            | AttributeValue::Rfc822Header(Some(bytes)) => {
                message.header = Some(bytes.to_vec());
            }
            // A NOTIFY push that crossed our FETCH: its envelope is what a notification needs
            // (the header section, where one came too, is kept instead).
            AttributeValue::Envelope(e) if message.header.is_none() => {
                message.header = Some(super::rfc2177_idle::envelope_header(e));
            }
            AttributeValue::InternalDate(date) => message.received = InternalDate::parse(date),
            _ => {}
        }
    }
    true
}

/// The lowest UID a sequence set names (`7:*` → 7, `3,9:12` → 3, `*:5` → 5), or 0 when it
/// cannot be told (`*` alone is the highest UID, whatever that is).
fn lowest_uid(set: &str) -> u32 {
    let mut lowest = None::<u32>;
    for item in set.split(',') {
        let mut named = None::<u32>;
        for end in item.split(':') {
            match end.trim() {
                "*" => {}
                n => match n.parse::<u32>() {
                    Ok(n) => named = Some(named.map_or(n, |m| m.min(n))),
                    Err(_) => return 0,
                },
            }
        }
        let Some(n) = named else { return 0 };
        lowest = Some(lowest.map_or(n, |l| l.min(n)));
    }
    lowest.unwrap_or(0)
}

#[cfg(test)]
mod tests;
