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
use imap_proto::{AttributeValue, Envelope, MailboxDatum, Response, StatusAttribute};
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
    /// New mail in the selected folder (RECENT, or EXISTS where no count came with it): fetch
    /// it.
    New,
    /// `* n EXISTS`: the selected folder now holds `n` messages. New mail unless a push of
    /// its headers follows ([`Seen::Pushed`], NOTIFY with fetch attributes).
    Exists(u32),
    /// A new message the server pushed with what a notification needs (RFC 5465 `MessageNew`
    /// with `UID FLAGS ENVELOPE INTERNALDATE`): announced without leaving IDLE.
    Pushed(Box<Pushed>),
    /// One message's flags, with its UID (`FlagChange`, or any unsolicited `FETCH (UID FLAGS)`):
    /// the unread count changes by one, without a re-count.
    Flags { uid: u32, seen: bool },
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

/// A message as NOTIFY pushed it: everything [`crate::mail::headers::decode`] needs, in the
/// form it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// Its message sequence number when pushed.
    pub seq: u32,
    pub uid: u32,
    /// Already `\Seen` (filed as read by another client): not announced.
    pub seen: bool,
    /// The ENVELOPE's date, subject, first sender and Message-ID written as header fields, so
    /// the one decoding pipeline (RFC 2047, charsets, limits) reads pushed and fetched mail
    /// alike.
    pub header: Vec<u8>,
    /// INTERNALDATE as the server wrote it (`07-Dec-2026 10:31:41 +0000`), if sent.
    pub internal_date: Option<String>,
}

/// What a parsed server line means ([`Seen`]).
pub fn classify(r: &Response<'_>) -> Seen {
    match r {
        Response::MailboxData(MailboxDatum::Exists(n)) => Seen::Exists(*n),
        Response::MailboxData(MailboxDatum::Recent(_)) => Seen::New,
        Response::Fetch(seq, attrs) => classify_fetch(*seq, attrs),
        Response::Expunge(_) | Response::Vanished { .. } => Seen::Change,
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

/// An unsolicited FETCH: a pushed new message (UID and ENVELOPE), a flag change with its UID,
/// or a change we cannot place (no UID: re-count).
fn classify_fetch(seq: u32, attrs: &[AttributeValue<'_>]) -> Seen {
    let mut uid = None;
    let mut flags = None;
    let mut envelope = None;
    let mut internal_date = None;
    for a in attrs {
        match a {
            AttributeValue::Uid(u) => uid = Some(*u),
            AttributeValue::Flags(f) => flags = Some(f),
            AttributeValue::Envelope(e) => envelope = Some(e),
            AttributeValue::InternalDate(d) => internal_date = Some(d.to_string()),
            _ => {}
        }
    }
    let seen = flags.is_some_and(|f| f.iter().any(|f| f.eq_ignore_ascii_case("\\Seen")));
    match (uid, envelope, flags) {
        (Some(uid), Some(e), _) => Seen::Pushed(Box::new(Pushed {
            seq,
            uid,
            seen,
            header: envelope_header(e),
            internal_date,
        })),
        (Some(uid), None, Some(_)) => Seen::Flags { uid, seen },
        _ => Seen::Change,
    }
}

/// An ENVELOPE (RFC 3501 §7.4.2) written back as the header fields it came from: `Date`,
/// `Subject`, the first `From` address and `Message-ID`, each on one line. The values are the
/// server's bytes as in the message (RFC 2047 encoded-words, raw 8-bit) — only line breaks a
/// hostile literal could carry are replaced, so no value can start a header of its own.
pub fn envelope_header(e: &Envelope<'_>) -> Vec<u8> {
    fn one_line(v: &[u8]) -> Vec<u8> {
        v.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect()
    }
    // imap-proto hands quoted strings over with their escapes (`\"`, `\\`) still in.
    let unescape = |v: &[u8]| -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len());
        let mut it = v.iter().copied().peekable();
        while let Some(b) = it.next() {
            match (b, it.peek()) {
                (b'\\', Some(&n @ (b'"' | b'\\'))) => {
                    out.push(n);
                    it.next();
                }
                _ => out.push(b),
            }
        }
        out
    };
    let mut out = Vec::new();
    let mut field = |name: &str, value: &[u8]| {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&one_line(value));
        out.extend_from_slice(b"\r\n");
    };
    if let Some(d) = &e.date {
        field("Date", d);
    }
    if let Some(s) = &e.subject {
        field("Subject", &unescape(s));
    }
    // The first real address: group markers (no host) are skipped.
    if let Some(a) = e
        .from
        .iter()
        .flatten()
        .find(|a| a.mailbox.is_some() && a.host.is_some())
    {
        let mut from = Vec::new();
        if let Some(name) = a.name.as_deref().filter(|n| !n.is_empty()) {
            from.extend_from_slice(&display_name(&unescape(name)));
            from.push(b' ');
        }
        from.push(b'<');
        from.extend_from_slice(a.mailbox.as_deref().unwrap_or_default());
        from.push(b'@');
        from.extend_from_slice(a.host.as_deref().unwrap_or_default());
        from.push(b'>');
        field("From", &from);
    }
    if let Some(id) = &e.message_id {
        field("Message-ID", id);
    }
    out
}

/// A display name as it may stand in a header: encoded-words and plain words as they are, a
/// name with RFC 5322 specials quoted (and its quotes and backslashes escaped).
fn display_name(name: &[u8]) -> Vec<u8> {
    const SPECIALS: &[u8] = b"()<>[]:;@\\,.\"";
    let encoded = name.windows(2).any(|w| w == b"=?");
    if encoded || !name.iter().any(|b| SPECIALS.contains(b)) {
        return name.to_vec();
    }
    let mut q = vec![b'"'];
    for &b in name {
        if b == b'"' || b == b'\\' {
            q.push(b'\\');
        }
        q.push(b);
    }
    q.push(b'"');
    q
}

/// What a line async-imap queued as unsolicited means: the same rules as [`classify`].
pub fn classify_unsolicited(r: &UnsolicitedResponse) -> Seen {
    match r {
        UnsolicitedResponse::Exists(n) => Seen::Exists(*n),
        UnsolicitedResponse::Recent(_) => Seen::New,
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
        assert_eq!(parse("* 4 EXISTS\r\n"), Seen::Exists(4));
        assert_eq!(parse("* 1 RECENT\r\n"), Seen::New);
        assert_eq!(parse("* 3 EXPUNGE\r\n"), Seen::Change);
        assert_eq!(parse("* 2 FETCH (FLAGS (\\Seen))\r\n"), Seen::Change);
        assert_eq!(
            parse("* 2 FETCH (FLAGS (\\Seen) UID 7)\r\n"),
            Seen::Flags { uid: 7, seen: true }
        );
        assert_eq!(
            parse("* 2 FETCH (UID 7 FLAGS (\\Answered))\r\n"),
            Seen::Flags {
                uid: 7,
                seen: false
            }
        );
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

    /// Dovecot 2.3's push for `MessageNew (UID FLAGS ENVELOPE INTERNALDATE)`, as recorded on
    /// this project's test server (see the shared notes), reads like the fetched headers.
    #[test]
    fn a_pushed_message_reads_like_its_headers() {
        let line = "* 2 FETCH (UID 2 FLAGS (\\Recent) INTERNALDATE \"07-Dec-2026 10:31:41 +0000\" \
                    ENVELOPE (\"Mon, 07 Dec 2026 10:31:40 +0000\" \"=?UTF-8?B?5L2g5aW9?= Lunch?\" \
                    ((\"Ana P\\\"erez, Sales\" NIL \"ana\" \"example.com\")) NIL NIL \
                    ((NIL NIL \"alice\" \"example.org\")) NIL NIL NIL \"<m1@example.com>\"))\r\n";
        let Seen::Pushed(p) = parse(line) else {
            panic!("{:?}", parse(line));
        };
        assert_eq!((p.seq, p.uid, p.seen), (2, 2, false));
        assert_eq!(
            p.internal_date.as_deref(),
            Some("07-Dec-2026 10:31:41 +0000")
        );
        let h = crate::mail::headers::decode(&p.header);
        assert_eq!(h.subject, "你好 Lunch?");
        assert_eq!(h.from_name, "Ana P\"erez, Sales");
        assert_eq!(h.from_address, "ana@example.com");
        assert_eq!(h.message_id, "m1@example.com");
        assert!(h.date.starts_with("2026-12-07T10:31:40"), "{}", h.date);

        // Already read when it arrived: pushed, but marked so.
        let read = "* 3 FETCH (UID 9 FLAGS (\\Seen) ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n";
        assert!(matches!(parse(read), Seen::Pushed(p) if p.seen && p.uid == 9));
    }

    /// A literal in an ENVELOPE may carry line breaks; written back as header fields they
    /// would start a header of their own (a forged From). They become spaces.
    #[test]
    fn an_envelope_value_cannot_forge_a_header() {
        let subject = "Hi\r\nFrom: boss@bank.example\r\n";
        let line = format!(
            "* 2 FETCH (UID 2 FLAGS () ENVELOPE (NIL {{{}}}\r\n{subject} \
             ((NIL NIL \"eve\" \"evil.example\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
            subject.len()
        );
        let line = line.as_str();
        let Seen::Pushed(p) = parse(line) else {
            panic!("{:?}", parse(line));
        };
        let h = crate::mail::headers::decode(&p.header);
        assert_eq!(h.from_address, "eve@evil.example");
        assert!(h.subject.contains("boss@bank.example"), "{}", h.subject);
    }

    #[test]
    fn unsolicited_lines_mean_the_same() {
        assert_eq!(
            classify_unsolicited(&UnsolicitedResponse::Exists(4)),
            Seen::Exists(4)
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
