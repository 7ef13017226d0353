//! The ESEARCH answer read on its own (tables), and the re-count against an in-process
//! server on tokio's paused clock: the answer taken out of the stream before imap-proto,
//! whatever the reads, with the session usable after it and every odd answer an error.

use std::time::Duration;

use async_imap::Client;
use async_imap::types::UnsolicitedResponse;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::*;
use crate::imap::transport::MailStream;

fn line(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn answers_are_read_with_and_without_uid_tag_or_data() {
    let cases: &[(&str, Option<Esearch>)] = &[
        (
            "* ESEARCH (TAG \"A5\") UID COUNT 3 ALL 4:6,9\r\n",
            Some(Esearch {
                tag: Some("A5".into()),
                uid: true,
                count: Some(3),
                all: Some(vec![(4, 6), (9, 9)]),
                ..Esearch::default()
            }),
        ),
        // Dovecot 2.3's order: ALL before COUNT.
        (
            "* ESEARCH (TAG \"T5\") UID ALL 1:20000 COUNT 20000\r\n",
            Some(Esearch {
                tag: Some("T5".into()),
                uid: true,
                count: Some(20_000),
                all: Some(vec![(1, 20_000)]),
                ..Esearch::default()
            }),
        ),
        // Nothing matched: COUNT 0 and no ALL (RFC 4731 §3.1).
        (
            "* ESEARCH (TAG \"A5\") UID COUNT 0\r\n",
            Some(Esearch {
                tag: Some("A5".into()),
                uid: true,
                count: Some(0),
                ..Esearch::default()
            }),
        ),
        (
            "* esearch (tag \"x\\\"y\") count 2 min 7 max 9 all 9:7",
            Some(Esearch {
                tag: Some("x\"y".into()),
                count: Some(2),
                min: Some(7),
                max: Some(9),
                all: Some(vec![(9, 7)]),
                ..Esearch::default()
            }),
        ),
        ("* ESEARCH", Some(Esearch::default())),
        (
            "* ESEARCH UID",
            Some(Esearch {
                uid: true,
                ..Esearch::default()
            }),
        ),
        // An extension's data is skipped (CONDSTORE's MODSEQ, a parenthesised one).
        (
            "* ESEARCH (TAG \"A1\") UID MODSEQ 917 X-EXT (1 (2)) COUNT 1 ALL 5",
            Some(Esearch {
                tag: Some("A1".into()),
                uid: true,
                count: Some(1),
                all: Some(vec![(5, 5)]),
                ..Esearch::default()
            }),
        ),
        ("* ESEARCH UIDX COUNT 1", None),
        ("* ESEARCH (TAG {2}\r\nA1) COUNT 1", None),
        ("* ESEARCH UID COUNT x", None),
        ("* ESEARCH UID COUNT", None),
        ("* ESEARCH UID ALL 0:3", None),
        ("* ESEARCH UID ALL 3:*", None),
        ("* ESEARCH UID ALL 1,,2", None),
        ("* ESEARCH UID  COUNT 1", None),
        ("* ESEARCH (TAG \"A1\" COUNT 1", None),
        ("* SEARCH 1 2", None),
    ];
    for (text, want) in cases {
        assert_eq!(&parse(text.as_bytes()), want, "{text:?}");
    }
}

#[test]
fn our_answer_is_the_one_naming_our_tag() {
    let ours = line("* ESEARCH (TAG \"A7\") UID COUNT 1 ALL 3\r\n");
    let other = line("* ESEARCH (TAG \"A6\") UID COUNT 9 ALL 1:9\r\n");
    let bare = line("* ESEARCH UID COUNT 1 ALL 3\r\n");
    let got = answer(&[other.clone(), ours.clone()], Some("A7")).unwrap();
    assert_eq!(got.all, Some(vec![(3, 3)]));
    assert_eq!(
        answer(std::slice::from_ref(&bare), Some("A7"))
            .unwrap()
            .count,
        Some(1)
    );
    assert!(answer(&[other], Some("A7")).is_err(), "none is ours");
    assert!(answer(&[], Some("A7")).is_err(), "no answer at all");
    assert!(answer(&[ours, bare], Some("A7")).is_err(), "two answers");
    assert!(answer(&[line("* ESEARCH COUNT")], None).is_err());
}

#[test]
fn members_are_the_uids_named_within_bounds() {
    let e = |uid: bool, all: Option<Vec<(u32, u32)>>| Esearch {
        uid,
        all,
        ..Esearch::default()
    };
    let set = members(&e(true, Some(vec![(4, 6), (9, 9), (12, 11)]))).unwrap();
    let mut got: Vec<u32> = set.into_iter().collect();
    got.sort_unstable();
    assert_eq!(got, [4, 5, 6, 9, 11, 12]);
    assert!(members(&e(true, None)).unwrap().is_empty());
    assert!(
        members(&e(false, Some(vec![(1, 1)]))).is_err(),
        "sequence numbers"
    );
    assert!(
        members(&e(true, Some(vec![(1, u32::MAX)]))).is_err(),
        "four billion UIDs"
    );
    let at_the_cap = u32::try_from(MAX_MEMBERS).unwrap();
    assert_eq!(
        members(&e(true, Some(vec![(1, at_the_cap)])))
            .unwrap()
            .len() as u64,
        MAX_MEMBERS
    );
}

/// An in-process server: greeting, LOGIN, then for each command the next answer in
/// `answers` (with `$TAG` as the command's tag), written `chunk` bytes at a time; `OK` to the
/// rest. An answer ending in `$CLOSE` is followed by the end of the connection.
async fn session_with(answers: Vec<String>, chunk: usize) -> (Session<MailStream>, StatusTap) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let (read, mut write) = tokio::io::split(theirs);
        let mut read = BufReader::new(read);
        let mut answers = answers.into_iter();
        if write.write_all(b"* OK ready\r\n").await.is_err() {
            return;
        }
        loop {
            let mut got = String::new();
            if read.read_line(&mut got).await.unwrap_or(0) == 0 {
                return;
            }
            let tag = got.split(' ').next().unwrap_or("*").to_owned();
            let reply = if got.contains("LOGIN") {
                format!("{tag} OK logged in\r\n")
            } else {
                match answers.next() {
                    Some(a) => a.replace("$TAG", &tag),
                    None => format!("{tag} OK done\r\n"),
                }
            };
            let (reply, close) = match reply.strip_suffix("$CLOSE") {
                Some(r) => (r.to_owned(), true),
                None => (reply, false),
            };
            for piece in reply.as_bytes().chunks(chunk.max(1)) {
                if write.write_all(piece).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            if close {
                return;
            }
        }
    });
    let stream = MailStream::in_memory(ours);
    let tap = stream.tap();
    let mut client = Client::new(stream);
    client.read_response().await.unwrap().unwrap();
    let session = client
        .login("alice", "pw")
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    (session, tap)
}

const LIMIT: Duration = Duration::from_secs(30);

fn sorted(set: HashSet<u32>) -> Vec<u32> {
    let mut v: Vec<u32> = set.into_iter().collect();
    v.sort_unstable();
    v
}

#[tokio::test(start_paused = true)]
async fn the_count_and_set_come_from_the_esearch_answer_however_it_is_cut() {
    for chunk in [1, 3, 7, 4096] {
        let (mut session, tap) = session_with(
            vec![
                "* 12 EXISTS\r\n* ESEARCH (TAG \"$TAG\") UID COUNT 4 ALL 4:6,9\r\n* 2 EXPUNGE\r\n$TAG OK Search completed\r\n".into(),
            ],
            chunk,
        )
        .await;
        let set = unseen(&mut session, &tap, LIMIT).await.unwrap();
        assert_eq!(sorted(set), vec![4, 5, 6, 9], "chunk {chunk}");
        // What came around the answer is queued for the watcher, as async-imap queues it.
        let queued: Vec<_> =
            std::iter::from_fn(|| session.unsolicited_responses.try_recv().ok()).collect();
        assert!(
            matches!(
                queued.as_slice(),
                [
                    UnsolicitedResponse::Exists(12),
                    UnsolicitedResponse::Expunge(2)
                ]
            ),
            "{queued:?}"
        );
        // The session goes on: a plain command after it is read as usual.
        session.noop().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn nothing_unread_is_count_zero_and_an_empty_set() {
    let (mut session, tap) = session_with(
        vec!["* ESEARCH (TAG \"$TAG\") UID COUNT 0\r\n$TAG OK done\r\n".into()],
        4096,
    )
    .await;
    let set = unseen(&mut session, &tap, LIMIT).await.unwrap();
    assert!(set.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_odd_answer_is_an_error_never_a_count() {
    let odd = [
        // OK without an answer.
        ("$TAG OK done\r\n", ProtoCause::Unparsable),
        // A plain SEARCH instead (a server that ignored RETURN).
        ("* SEARCH 4 5\r\n$TAG OK done\r\n", ProtoCause::Unparsable),
        // Message numbers instead of UIDs.
        (
            "* ESEARCH (TAG \"$TAG\") COUNT 1 ALL 4\r\n$TAG OK done\r\n",
            ProtoCause::Unparsable,
        ),
        // Too many to hold.
        (
            "* ESEARCH (TAG \"$TAG\") UID COUNT 4294967295 ALL 1:4294967295\r\n$TAG OK done\r\n",
            ProtoCause::Unparsable,
        ),
        (
            "* ESEARCH (TAG \"$TAG\") UID COUNT 1 ALL 4\r\n$TAG NO [SERVERBUG] oops\r\n",
            ProtoCause::Refused,
        ),
    ];
    for (answer, want) in odd {
        let (mut session, tap) = session_with(vec![answer.into()], 4096).await;
        match unseen(&mut session, &tap, LIMIT).await {
            Err(ConnectError::Protocol { cause, step, .. }) => {
                assert_eq!(cause, want, "{answer:?}");
                assert_eq!(step, Some(Step::CountingUnread), "{answer:?}");
            }
            other => panic!("{answer:?}: {other:?}"),
        }
    }
    // The connection ends in the middle of the answer: lost, not zero unread.
    let (mut session, tap) =
        session_with(vec!["* ESEARCH (TAG \"$TAG\") UID COU$CLOSE".into()], 4096).await;
    let err = unseen(&mut session, &tap, LIMIT).await.unwrap_err();
    assert!(matches!(err, ConnectError::Network { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_finishes_the_search_is_a_timeout() {
    let (mut session, tap) = session_with(
        vec!["* ESEARCH (TAG \"$TAG\") UID COUNT 1 ALL 4\r\n".into()],
        4096,
    )
    .await;
    let err = unseen(&mut session, &tap, LIMIT).await.unwrap_err();
    assert!(
        matches!(err, ConnectError::Timeout(Step::CountingUnread)),
        "{err:?}"
    );
}
