//! IMAP IDLE (RFC 2177) on async-imap, with what its `Handle` gets wrong handled here rather
//! than by every caller:
//!
//! - Until `+ idling` arrives, async-imap queues every other line as unsolicited. A `* BYE`
//!   there means the server is leaving instead of idling (without watching for it we would
//!   wait `command_timeout` for a `+` that never comes); EXISTS or STATUS there raced the IDLE
//!   command and must be acted on ([`start`] hands them back).
//! - End of stream is reported as `ManualInterrupt`, the same as our own stop: [`wait`] never
//!   stops through async-imap's stop source, so `ManualInterrupt` always means the server went.
//! - Dropping the `StopSource` ends a wait at once: [`wait`] keeps it alive for as long as it
//!   waits.
//! - Each server line wakes one wait; [`classify`] says what it means to a watcher — the one
//!   place that tells new mail from other changes, for lines during IDLE and for lines queued
//!   as unsolicited outside it alike.
//!
//! The watcher (`watch/conn.rs`) decides when to idle, for how long and what to do next.

use std::time::Duration;

use async_imap::Session;
use async_imap::extensions::idle::{Handle, IdleResponse};
use async_imap::types::UnsolicitedResponse;
use imap_proto::{MailboxDatum, Response, StatusAttribute};
use tokio::time::timeout;

use super::session::imap_error;
use super::transport::{MailStream, StatusTap};
use crate::error::{ConnectError, NetCause, Step};
use crate::text::truncate_for_log;

/// An IDLE in progress.
pub type Idle = Handle<MailStream>;

/// What one server line means to a watcher of the selected folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// New mail in the selected folder (EXISTS, RECENT): fetch it.
    New,
    /// Read or deleted mail in the selected folder (EXPUNGE, FETCH, VANISHED): look again,
    /// and re-count.
    Change,
    /// NOTIFY's STATUS for a folder (possibly partial; merge it).
    Status {
        mailbox: String,
        attributes: Vec<StatusAttribute>,
    },
    /// `* BYE`: the server is leaving; its words, capped.
    Bye(String),
    /// Anything else (keepalives, ALERTs, stray tagged lines): harmless.
    Other,
}

/// What a parsed server line means ([`Seen`]).
pub fn classify(r: &Response<'_>) -> Seen {
    match r {
        Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_)) => Seen::New,
        Response::Expunge(_) | Response::Fetch(..) | Response::Vanished { .. } => Seen::Change,
        Response::MailboxData(MailboxDatum::Status { mailbox, status }) => Seen::Status {
            mailbox: mailbox.to_string(),
            attributes: status.clone(),
        },
        Response::Data {
            status: imap_proto::Status::Bye,
            outcome,
        } => Seen::Bye(truncate_for_log(
            outcome.information.as_deref().unwrap_or(""),
        )),
        _ => Seen::Other,
    }
}

/// What a line async-imap queued as unsolicited means: the same rules as [`classify`].
pub fn classify_unsolicited(r: &UnsolicitedResponse) -> Seen {
    match r {
        UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_) => Seen::New,
        UnsolicitedResponse::Expunge(_) => Seen::Change,
        UnsolicitedResponse::Status {
            mailbox,
            attributes,
        } => Seen::Status {
            mailbox: mailbox.clone(),
            attributes: attributes.clone(),
        },
        UnsolicitedResponse::Other(data) => classify(data.parsed()),
    }
}

/// An IDLE started: the handle, and what the server said before `+ idling` (already
/// classified; a `* BYE` among it has ended the start instead).
pub struct Started {
    pub idle: Idle,
    pub early: Vec<Seen>,
}

/// Sends `IDLE` and waits, at most `limit`, for `+ idling`. (The caller keeps a clone of
/// `session.unsolicited_responses` if it wants to see lines queued while idling: the handle
/// hides the session's own.)
pub async fn start(
    session: Session<MailStream>,
    limit: Duration,
    tap: &StatusTap,
) -> Result<Started, ConnectError> {
    let pending = session.unsolicited_responses.clone();
    let mut idle = session.idle();
    let mut early = Vec::new();
    let started = timeout(limit, async {
        let init = idle.init();
        tokio::pin!(init);
        loop {
            tokio::select! {
                r = &mut init => return r.map_err(|e| imap_error(Step::StartingIdle, e, tap)),
                r = pending.recv() => match r {
                    Ok(r) => match classify_unsolicited(&r) {
                        Seen::Bye(said) => {
                            return Err(ConnectError::network(NetCause::ByeInsteadOfIdle)
                                .with_words(said));
                        }
                        seen => early.push(seen),
                    },
                    // The session owns the sender, so this cannot close while we wait.
                    Err(_) => std::future::pending::<()>().await,
                },
            }
        }
    })
    .await;
    match started {
        Err(_) => Err(ConnectError::Timeout(Step::StartingIdle)),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => Ok(Started { idle, early }),
    }
}

/// What one wait in IDLE brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited {
    Line(Seen),
    /// Nothing for `dead_after`: ask whether anyone is still there (DONE answers that).
    Silent,
}

/// Waits for the next server line, or `dead_after` of silence. The end of the stream is an
/// error (the server went), never "interrupted".
pub async fn wait(
    idle: &mut Idle,
    dead_after: Duration,
    tap: &StatusTap,
) -> Result<Waited, ConnectError> {
    // The stop source lives as long as this wait: dropping it would end the wait at once.
    let (fut, _stop) = idle.wait_with_timeout(dead_after);
    match fut.await {
        Ok(IdleResponse::NewData(data)) => Ok(Waited::Line(classify(data.parsed()))),
        Ok(IdleResponse::Timeout) => Ok(Waited::Silent),
        // We never interrupt through the stop source: this is async-imap's end of stream.
        Ok(IdleResponse::ManualInterrupt) => Err(match tap.take_bye() {
            Some(said) => ConnectError::network(NetCause::Bye).with_words(said),
            None => ConnectError::network(NetCause::Closed),
        }),
        Err(e) => Err(imap_error(Step::WaitingInIdle, e, tap)),
    }
}

/// Sends `DONE`; the server must answer within `limit` or the link is declared dead.
pub async fn done(
    idle: Idle,
    limit: Duration,
    tap: &StatusTap,
) -> Result<Session<MailStream>, ConnectError> {
    match timeout(limit, idle.done()).await {
        Err(_) => Err(ConnectError::Timeout(Step::EndingIdle)),
        Ok(Err(e)) => Err(imap_error(Step::EndingIdle, e, tap)),
        Ok(Ok(s)) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Seen {
        let (_, r) = Response::parse(line.as_bytes()).expect(line);
        classify(&r)
    }

    /// One table for what every line a server sends during IDLE means; the lines are the ones
    /// Dovecot 2.3 and Cyrus 3.6 send (recorded on this project's test servers).
    #[test]
    fn each_server_line_means_one_thing() {
        assert_eq!(parse("* 4 EXISTS\r\n"), Seen::New);
        assert_eq!(parse("* 1 RECENT\r\n"), Seen::New);
        assert_eq!(parse("* 3 EXPUNGE\r\n"), Seen::Change);
        assert_eq!(parse("* 2 FETCH (FLAGS (\\Seen))\r\n"), Seen::Change);
        assert_eq!(parse("* VANISHED 41:43\r\n"), Seen::Change);
        assert_eq!(
            parse("* BYE Server shutting down.\r\n"),
            Seen::Bye("Server shutting down.".into())
        );
        assert_eq!(parse("* OK Still here\r\n"), Seen::Other);
        assert_eq!(parse("* OK [ALERT] Quota at 95%\r\n"), Seen::Other);
        match parse("* STATUS Work (MESSAGES 3 UIDNEXT 9 UNSEEN 1)\r\n") {
            Seen::Status {
                mailbox,
                attributes,
            } => {
                assert_eq!(mailbox, "Work");
                assert_eq!(attributes.len(), 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unsolicited_lines_mean_the_same() {
        assert_eq!(
            classify_unsolicited(&UnsolicitedResponse::Exists(4)),
            Seen::New
        );
        assert_eq!(
            classify_unsolicited(&UnsolicitedResponse::Recent(1)),
            Seen::New
        );
        assert_eq!(
            classify_unsolicited(&UnsolicitedResponse::Expunge(3)),
            Seen::Change
        );
        assert!(matches!(
            classify_unsolicited(&UnsolicitedResponse::Status {
                mailbox: "Work".into(),
                attributes: vec![StatusAttribute::Unseen(2)],
            }),
            Seen::Status { .. }
        ));
    }

    #[test]
    fn a_bye_keeps_at_most_a_kib_of_the_servers_words() {
        let line = format!("* BYE {}\r\n", "x".repeat(60_000));
        match parse(&line) {
            Seen::Bye(text) => assert!(text.len() <= 1100, "{}", text.len()),
            other => panic!("{other:?}"),
        }
    }
}
