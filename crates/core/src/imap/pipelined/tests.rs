//! `DONE` + `UID FETCH` against an in-process server that answers only once it has read both
//! lines — a client that waited for IDLE's `OK` before sending the FETCH would wait forever
//! (here: `done_timeout`, an error), so every passing test is also a proof of one round trip —
//! and then answers the pair in every odd shape a real server has been seen to, or could.
//!
//! On tokio's paused clock, so "slow" costs no real time, over an in-memory pipe: a loopback
//! socket delivers a burst of small writes a moment apart (the kernel corks them), and in that
//! moment the paused clock may jump to the client's timeout. One test runs the same over a
//! real socket, in real time.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_imap::Client;
use secrecy::SecretString;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;
use crate::config::{Account, Security};
use crate::imap::rfc2177_idle::start;
use crate::imap::session;
use crate::imap::transport::login::login;
use crate::imap::transport::{self, TlsConfigs};
use crate::mail::headers::HEADER_FETCH;

const DONE_LIMIT: Duration = Duration::from_secs(10);
const FETCH_LIMIT: Duration = Duration::from_secs(30);

/// What the server does once it has read `DONE` and the pipelined command. In the bytes it
/// sends, `$IDLE` is the IDLE command's tag and `$FETCH` the pipelined command's.
#[derive(Clone)]
enum Act {
    Say(String),
    Wait(Duration),
    Close,
}

use Act::{Close, Say, Wait};

fn say(s: &str) -> Act {
    Say(s.to_owned())
}

/// What the server read.
#[derive(Default)]
struct Heard {
    /// The bytes that ended each IDLE, exactly as read, before the server answered any of it.
    after_idle: Vec<Vec<u8>>,
    /// Every command line.
    lines: Vec<String>,
}

/// One connection: greeting, CAPABILITY, LOGIN, then for each IDLE the next script (or, when
/// none is left, the plain answer to both), and `OK` to anything else.
async fn serve<S>(socket: S, mut scripts: VecDeque<Vec<Act>>, heard: Arc<Mutex<Heard>>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, mut write) = tokio::io::split(socket);
    let mut read = BufReader::new(read);
    let caps = "IMAP4rev1 IDLE";
    let greeting = format!("* OK [CAPABILITY {caps}] scripted pair ready\r\n");
    if write.write_all(greeting.as_bytes()).await.is_err() {
        return;
    }
    loop {
        let mut line = Vec::new();
        if read.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_owned();
        heard.lock().unwrap().lines.push(line.clone());
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or("*").to_owned();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let answer = match verb.as_str() {
            "CAPABILITY" => format!("* CAPABILITY {caps}\r\n{tag} OK done\r\n"),
            "IDLE" => {
                if write.write_all(b"+ idling\r\n").await.is_err() {
                    return;
                }
                // Both lines, before a single byte of answer.
                let mut both = Vec::new();
                for _ in 0..2 {
                    if read.read_until(b'\n', &mut both).await.unwrap_or(0) == 0 {
                        return;
                    }
                }
                let second = String::from_utf8_lossy(&both);
                let fetch_tag = second
                    .lines()
                    .nth(1)
                    .and_then(|l| l.split_whitespace().next())
                    .unwrap_or("?")
                    .to_owned();
                heard.lock().unwrap().after_idle.push(both);
                let script = scripts
                    .pop_front()
                    .unwrap_or_else(|| vec![say("$IDLE OK idle done\r\n$FETCH OK fetched\r\n")]);
                for act in script {
                    match act {
                        Say(bytes) => {
                            let bytes = bytes.replace("$IDLE", &tag).replace("$FETCH", &fetch_tag);
                            if write.write_all(bytes.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        Wait(d) => tokio::time::sleep(d).await,
                        Close => return,
                    }
                }
                continue;
            }
            "LOGOUT" => format!("* BYE bye\r\n{tag} OK done\r\n"),
            _ => format!("{tag} OK done\r\n"),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A logged-in session on the scripted server.
struct Rig {
    session: Session<MailStream>,
    tap: StatusTap,
    heard: Arc<Mutex<Heard>>,
}

impl Rig {
    /// Over an in-memory pipe (the paused-clock tests).
    async fn start(scripts: Vec<Vec<Act>>) -> Rig {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let heard = Arc::new(Mutex::new(Heard::default()));
        tokio::spawn(serve(theirs, scripts.into(), heard.clone()));
        let stream = MailStream::in_memory(ours);
        let tap = stream.tap();
        let mut client = Client::new(stream);
        client.read_response().await.unwrap().unwrap(); // the greeting
        let session = client
            .login("alice", "pw")
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        Rig {
            session,
            tap,
            heard,
        }
    }

    /// Over a loopback socket, connected and logged in as the watcher does.
    async fn over_a_socket(scripts: Vec<Vec<Act>>) -> Rig {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heard = Arc::new(Mutex::new(Heard::default()));
        let serving = heard.clone();
        tokio::spawn(async move {
            if let Ok((socket, _)) = listener.accept().await {
                serve(socket, scripts.into(), serving).await;
            }
        });
        let mut account = Account::new("pipelined", "127.0.0.1", "alice");
        account.port = port;
        account.security = Security::Plain;
        let greeted = transport::connect(&account, &TlsConfigs::default())
            .await
            .unwrap();
        let li = login(greeted, "alice", &SecretString::from("pw"), FETCH_LIMIT)
            .await
            .unwrap();
        Rig {
            session: li.session,
            tap: li.tap,
            heard,
        }
    }

    /// IDLE, then DONE + `UID FETCH from:* (UID FLAGS INTERNALDATE <headers>)` as the watcher
    /// asks it.
    async fn round(mut self, from: u32) -> (Result<Pipelined, ConnectError>, Option<Rig>) {
        let tap = self.tap.clone();
        let started = start(self.session, DONE_LIMIT, &tap).await.unwrap();
        let query = format!("(UID FLAGS INTERNALDATE {HEADER_FETCH})");
        let set = format!("{from}:*");
        match done_and_fetch(started.idle, &set, &query, DONE_LIMIT, FETCH_LIMIT, &tap).await {
            Ok((session, got)) => {
                self.session = session;
                (Ok(got), Some(self))
            }
            Err(e) => (Err(e), None),
        }
    }

    fn after_idle(&self, n: usize) -> String {
        String::from_utf8_lossy(&self.heard.lock().unwrap().after_idle[n]).into_owned()
    }
}

/// The fields a server sends back for [`HEADER_FETCH`].
const SECTION: &str = "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]<0>";

fn header(n: u32) -> String {
    format!("From: Ana <ana@example.test>\r\nSubject: message {n}\r\n\r\n")
}

/// When message `uid` reached the server, as Dovecot writes it: `uid` seconds past 10:31.
fn internal_date(uid: u32) -> String {
    format!("07-Dec-2026 10:31:{:02} +0100", uid % 60)
}

/// `* seq FETCH (UID uid FLAGS (flags) INTERNALDATE "…" BODY[…]<0> {n}\r\n…)`, as Dovecot
/// answers.
fn fetched(seq: u32, uid: u32, flags: &str) -> String {
    let h = header(uid);
    format!(
        "* {seq} FETCH (UID {uid} FLAGS ({flags}) INTERNALDATE \"{}\" {SECTION} {{{}}}\r\n{h})\r\n",
        internal_date(uid),
        h.len()
    )
}

fn message(uid: u32, seen: bool) -> FetchedMessage {
    FetchedMessage {
        uid,
        seen,
        header: Some(header(uid).into_bytes()),
        received: InternalDate::parse(&internal_date(uid)),
    }
}

/// The next command on the session still gets its own answer: nothing of the pair was left
/// behind to be taken for it.
async fn still_in_step(rig: &mut Rig) {
    let tap = rig.tap.clone();
    session::run(Step::CountingUnread, FETCH_LIMIT, &tap, rig.session.noop())
        .await
        .expect("NOOP after the pair");
    let lines = rig.heard.lock().unwrap().lines.clone();
    assert!(
        lines.last().is_some_and(|l| l.ends_with(" NOOP")),
        "{lines:?}"
    );
}

fn expect_err(r: Result<Pipelined, ConnectError>) -> ConnectError {
    match r {
        Ok(got) => panic!("expected an error, got {got:?}"),
        Err(e) => e,
    }
}

/// The usual shape: `DONE` and the FETCH leave together, before the server says anything;
/// IDLE's OK, the messages, the FETCH's OK come back in order, in separate writes.
#[tokio::test(start_paused = true)]
async fn done_and_the_fetch_leave_together_before_any_answer() {
    let rig = Rig::start(vec![vec![
        say("$IDLE OK Idle completed (0.001 + 3.000 secs).\r\n"),
        Say(fetched(4, 5, "\\Recent")),
        Say(fetched(5, 6, "\\Seen \\Recent")),
        say("$FETCH OK Fetch completed (0.001 + 0.000 secs).\r\n"),
    ]])
    .await;
    let (got, rig) = rig.round(5).await;
    let mut rig = rig.unwrap();
    assert_eq!(
        rig.after_idle(0),
        format!("DONE\r\nP1 UID FETCH 5:* (UID FLAGS INTERNALDATE {HEADER_FETCH})\r\n")
    );
    let got = got.unwrap();
    assert_eq!(got.fetched, vec![message(5, false), message(6, true)]);
    // INTERNALDATE came in the same answer: no extra round trip for how late it is.
    assert_eq!(
        got.fetched[0].received.map(|r| r.to_rfc3339()).as_deref(),
        Some("2026-12-07T10:31:05+01:00")
    );
    assert_eq!(got.seen, vec![]);
    still_in_step(&mut rig).await;
    // And again on the same session: a new tag, the same shape.
    let (got, rig) = rig.round(7).await;
    let rig = rig.unwrap();
    assert_eq!(got.unwrap(), Pipelined::default());
    assert_eq!(
        rig.after_idle(1),
        format!("DONE\r\nP2 UID FETCH 7:* (UID FLAGS INTERNALDATE {HEADER_FETCH})\r\n")
    );
}

/// IDLE's OK, the FETCH's answer and its OK in one segment: the rest of the segment waits in
/// async-imap's buffer and is read as the FETCH's answer; the next command is not confused.
#[tokio::test(start_paused = true)]
async fn the_fetch_answer_in_the_same_segment_as_idles_ok() {
    let all = format!(
        "$IDLE OK Idle completed.\r\n{}{}$FETCH OK Fetch completed.\r\n",
        fetched(4, 5, ""),
        fetched(5, 6, "\\Seen")
    );
    let rig = Rig::start(vec![vec![Say(all)]]).await;
    let (got, rig) = rig.round(5).await;
    let mut rig = rig.unwrap();
    assert_eq!(
        got.unwrap().fetched,
        vec![message(5, false), message(6, true)]
    );
    still_in_step(&mut rig).await;
}

/// A server slow to end IDLE (9 s of the 10 s `done_timeout`), then slow with the FETCH
/// (29 s of the 30 s `command_timeout`): each limit is its own, and both are met.
#[tokio::test(start_paused = true)]
async fn a_slow_ok_to_done_within_the_limits() {
    let rig = Rig::start(vec![vec![
        Wait(Duration::from_secs(9)),
        say("$IDLE OK Idle completed.\r\n"),
        Wait(Duration::from_secs(29)),
        Say(fetched(4, 5, "")),
        say("$FETCH OK Fetch completed.\r\n"),
    ]])
    .await;
    let (got, rig) = rig.round(5).await;
    let mut rig = rig.unwrap();
    assert_eq!(got.unwrap().fetched, vec![message(5, false)]);
    still_in_step(&mut rig).await;
}

/// Too slow: IDLE's OK after `done_timeout` is a dead link (as for a plain DONE); the FETCH
/// unanswered after `command_timeout` is a timeout while fetching. Nothing is returned.
#[tokio::test(start_paused = true)]
async fn too_slow_is_a_timeout_and_returns_nothing() {
    let rig = Rig::start(vec![vec![
        Wait(Duration::from_secs(11)),
        say("$IDLE OK Idle completed.\r\n"),
    ]])
    .await;
    let (got, _) = rig.round(5).await;
    assert_eq!(expect_err(got), ConnectError::Timeout(Step::EndingIdle));

    let rig = Rig::start(vec![vec![
        say("$IDLE OK Idle completed.\r\n"),
        Say(fetched(4, 5, "")),
        Wait(Duration::from_secs(31)),
        say("$FETCH OK Fetch completed.\r\n"),
    ]])
    .await;
    let (got, _) = rig.round(5).await;
    assert_eq!(expect_err(got), ConnectError::Timeout(Step::FetchingNew));
}

/// `* BYE` between IDLE's OK and the FETCH's answer, then the server closes: an error with
/// the server's words, and the message it had started to send is not returned.
#[tokio::test(start_paused = true)]
async fn a_bye_between_the_two_then_a_close() {
    let rig = Rig::start(vec![vec![
        say("$IDLE OK Idle completed.\r\n* BYE Server shutting down.\r\n"),
        Close,
    ]])
    .await;
    let (got, _) = rig.round(5).await;
    assert_eq!(
        expect_err(got),
        ConnectError::network(NetCause::Bye)
            .with_words("Server shutting down.")
            .at(Step::FetchingNew)
    );

    // The BYE in the middle of the FETCH's answer: the first message is not returned either.
    let rig = Rig::start(vec![vec![
        say("$IDLE OK Idle completed.\r\n"),
        Say(fetched(4, 5, "")),
        say("* BYE Server shutting down.\r\n"),
        Close,
    ]])
    .await;
    let (got, _) = rig.round(5).await;
    assert!(matches!(
        expect_err(got),
        ConnectError::Network {
            cause: NetCause::Bye,
            step: Some(Step::FetchingNew),
            ..
        }
    ));
}

/// `* BYE` before IDLE's OK, then a close: the IDLE never ended, an error at that step.
#[tokio::test(start_paused = true)]
async fn a_bye_before_idles_ok() {
    let rig = Rig::start(vec![vec![say("* BYE Server shutting down.\r\n"), Close]]).await;
    let (got, _) = rig.round(5).await;
    assert_eq!(
        expect_err(got),
        ConnectError::network(NetCause::Bye)
            .with_words("Server shutting down.")
            .at(Step::EndingIdle)
    );
}

/// A server that says `* BYE` and still finishes the FETCH: what its tagged OK vouches for is
/// returned, and the BYE with it, for the caller to end the session after announcing.
#[tokio::test(start_paused = true)]
async fn a_bye_and_the_fetch_still_finished() {
    let rig = Rig::start(vec![vec![say(&format!(
        "$IDLE OK Idle completed.\r\n* BYE Shutting down soon.\r\n{}$FETCH OK done\r\n",
        fetched(4, 5, "")
    ))]])
    .await;
    let (got, _) = rig.round(5).await;
    let got = got.unwrap();
    assert_eq!(got.fetched, vec![message(5, false)]);
    assert_eq!(got.seen, vec![Seen::Bye("Shutting down soon.".into())]);
}

/// `NO` or `BAD` to the FETCH, after some of its answer: a refusal at "fetching new mail" with
/// the server's words, and none of the messages before it.
#[tokio::test(start_paused = true)]
async fn a_refused_fetch_returns_nothing() {
    for status in ["NO", "BAD"] {
        let rig = Rig::start(vec![vec![
            say("$IDLE OK Idle completed.\r\n"),
            Say(fetched(4, 5, "")),
            Say(format!("$FETCH {status} Internal error occurred.\r\n")),
        ]])
        .await;
        let (got, _) = rig.round(5).await;
        assert_eq!(
            expect_err(got),
            ConnectError::protocol(ProtoCause::Refused)
                .with_words("Internal error occurred.")
                .at(Step::FetchingNew),
            "{status}"
        );
    }
}

/// The connection closed right after IDLE's OK, or in the middle of the FETCH's answer:
/// `Closed`, nothing returned.
#[tokio::test(start_paused = true)]
async fn a_close_right_after_idles_ok_or_midway() {
    for rest in [String::new(), fetched(4, 5, "")] {
        let rig = Rig::start(vec![vec![
            say("$IDLE OK Idle completed.\r\n"),
            Say(rest),
            Close,
        ]])
        .await;
        let (got, _) = rig.round(5).await;
        assert_eq!(
            expect_err(got),
            ConnectError::network(NetCause::Closed).at(Step::FetchingNew)
        );
    }
}

/// A refusal of IDLE's end (`BAD` to the IDLE): an error there, before the FETCH is read.
#[tokio::test(start_paused = true)]
async fn a_refused_done() {
    let rig = Rig::start(vec![vec![say(
        "$IDLE BAD Expected DONE.\r\n$FETCH OK Fetch completed.\r\n",
    )]])
    .await;
    let (got, _) = rig.round(5).await;
    assert!(matches!(
        expect_err(got),
        ConnectError::Protocol {
            cause: ProtoCause::Refused,
            step: Some(Step::EndingIdle),
            ..
        }
    ));
}

/// Everything else the server says around the pair reaches the caller, in order, once each:
/// lines before IDLE's OK (queued by async-imap), new mail and expunges during the FETCH,
/// flag changes of other messages (no UID, or a UID below the set), NOTIFY's STATUS. A message
/// whose items come in two FETCH responses is one message.
#[tokio::test(start_paused = true)]
async fn other_lines_around_the_pair_are_handed_back_in_order() {
    let h = header(5);
    let script = format!(
        "* 2 EXPUNGE\r\n\
         $IDLE OK Idle completed.\r\n\
         * 7 EXISTS\r\n\
         * OK Still here\r\n\
         * 2 FETCH (FLAGS (\\Seen))\r\n\
         * 1 FETCH (UID 1 FLAGS (\\Seen))\r\n\
         * 4 FETCH (UID 5 FLAGS ())\r\n\
         * STATUS Work (UNSEEN 2)\r\n\
         * 4 FETCH (UID 5 INTERNALDATE \"{}\" {SECTION} {{{}}}\r\n{h})\r\n\
         * 5 FETCH (UID 6 FLAGS (\\Seen))\r\n\
         * 5 FETCH (UID 6 FLAGS ())\r\n\
         $FETCH OK Fetch completed.\r\n",
        internal_date(5),
        h.len()
    );
    let rig = Rig::start(vec![vec![Say(script)]]).await;
    let (got, rig) = rig.round(5).await;
    let mut rig = rig.unwrap();
    let got = got.unwrap();
    assert_eq!(
        got.fetched,
        vec![
            message(5, false),
            FetchedMessage {
                uid: 6,
                seen: false,
                header: None,
                received: None,
            }
        ]
    );
    assert_eq!(
        got.seen,
        vec![
            Seen::Change,
            Seen::Exists(7),
            Seen::Change,
            Seen::Flags { uid: 1, seen: true },
            Seen::Status {
                mailbox: "Work".into(),
                attributes: vec![imap_proto::StatusAttribute::Unseen(2)],
            },
        ]
    );
    // The async-imap queue was emptied into `seen`: nothing is reported twice.
    assert!(rig.session.unsolicited_responses.is_empty());
    still_in_step(&mut rig).await;
}

/// A server that breaks the framer's limits in the FETCH's answer: refused like any other
/// response (the connection is dropped), at "fetching new mail" — also when the bytes came in
/// the same read as IDLE's OK, refused while async-imap was still reading for DONE.
#[tokio::test(start_paused = true)]
async fn a_literal_beyond_the_limit_is_refused() {
    let huge = format!("* 4 FETCH (UID 5 {SECTION} {{300000}}\r\n");
    for script in [
        vec![
            say("$IDLE OK Idle completed.\r\n"),
            Wait(Duration::from_millis(1)),
            say(&huge),
        ],
        vec![say(&format!("$IDLE OK Idle completed.\r\n{huge}"))],
    ] {
        let rig = Rig::start(vec![script]).await;
        let (got, _) = rig.round(5).await;
        assert!(matches!(
            expect_err(got),
            ConnectError::Protocol {
                cause: ProtoCause::Limit(_),
                step: Some(Step::FetchingNew),
                ..
            }
        ));
    }
}

/// The same over a real socket, connected and logged in as the watcher does, in real time:
/// the pair leaves in one write, and the answers, in separate writes, are read in order.
#[tokio::test]
async fn the_pair_over_a_real_socket() {
    let rig = Rig::over_a_socket(vec![vec![
        say("$IDLE OK Idle completed.\r\n"),
        Say(fetched(4, 5, "")),
        Say(fetched(5, 6, "\\Seen")),
        say("$FETCH OK Fetch completed.\r\n"),
    ]])
    .await;
    let (got, rig) = rig.round(5).await;
    let mut rig = rig.unwrap();
    assert_eq!(
        rig.after_idle(0),
        format!("DONE\r\nP1 UID FETCH 5:* (UID FLAGS INTERNALDATE {HEADER_FETCH})\r\n")
    );
    assert_eq!(
        got.unwrap().fetched,
        vec![message(5, false), message(6, true)]
    );
    still_in_step(&mut rig).await;
}

#[test]
fn lowest_uid_of_a_set() {
    assert_eq!(lowest_uid("7:*"), 7);
    assert_eq!(lowest_uid("7"), 7);
    assert_eq!(lowest_uid("3,9:12"), 3);
    assert_eq!(lowest_uid("*:5"), 5);
    assert_eq!(lowest_uid("12:9"), 9);
    assert_eq!(lowest_uid("*"), 0);
    assert_eq!(lowest_uid("4,*"), 0);
    assert_eq!(lowest_uid("x"), 0);
}
