use super::*;

fn plan(enable: bool, esearch: bool, notify: bool) -> Plan {
    Plan {
        enable_qresync: enable,
        wire: "INBOX".into(),
        known: None,
        esearch,
        notify: notify.then(|| "NOTIFY SET (SELECTED (MessageNew MessageExpunge))".into()),
    }
}

fn tags(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("P{i}")).collect()
}

fn lines(text: &[&str]) -> Vec<Vec<u8>> {
    text.iter()
        .map(|l| format!("{l}\r\n").into_bytes())
        .collect()
}

/// What Dovecot 2.3.19 answers to the flight of a first start (recorded on the test server,
/// UIDVALIDITY and counts shortened).
#[test]
fn a_dovecot_first_start_is_read_whole() {
    let p = plan(true, true, true);
    assert_eq!(
        p.commands(),
        [
            "ENABLE QRESYNC",
            "SELECT \"INBOX\"",
            "UID SEARCH RETURN (COUNT ALL) UNSEEN",
            "NOTIFY SET (SELECTED (MessageNew MessageExpunge))",
        ]
    );
    let held = lines(&[
        "* ENABLED QRESYNC",
        "P1 OK Enabled",
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
        "* 3 EXISTS",
        "* 0 RECENT",
        "* OK [UNSEEN 2] First unseen.",
        "* OK [UIDVALIDITY 1765100000] UIDs valid",
        "* OK [UIDNEXT 4] Predicted next UID",
        "* OK [HIGHESTMODSEQ 7] Highest",
        "P2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).",
        "* ESEARCH (TAG \"P3\") UID COUNT 2 ALL 2:3",
        "P3 OK Search completed (0.001 + 0.000 secs).",
        "* STATUS Archive (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 5 UNSEEN 1)",
        "P4 OK NOTIFY completed (0.001 + 0.000 secs).",
    ]);
    let a = read(&p, &tags(4), &held);
    assert!(a.usable(), "{a:?}");
    assert_eq!(a.selected.uidvalidity, Some(1_765_100_000));
    assert_eq!(a.selected.uidnext, Some(4));
    assert_eq!(a.selected.exists, 3);
    assert_eq!(a.selected.highestmodseq, Some(7));
    assert_eq!(a.selected.changes, None);
    assert_eq!(a.unseen, Some(HashSet::from([2, 3])));
    assert!(a.notify.as_ref().is_some_and(|v| v.ok));
    assert!(matches!(&a.after[..], [Seen::Status { mailbox, .. }] if mailbox == "Archive"));
}

#[test]
fn a_plain_search_and_mail_arriving_during_the_flight() {
    let p = plan(false, false, false);
    let held = lines(&[
        "* 1 EXISTS",
        "* OK [UIDVALIDITY 9] x",
        "* OK [UIDNEXT 2] x",
        "P1 OK done",
        "* SEARCH 1",
        "* 2 EXISTS",
        "P2 OK done",
    ]);
    let a = read(&p, &tags(2), &held);
    assert!(a.usable(), "{a:?}");
    assert_eq!(a.unseen, Some(HashSet::from([1])));
    // New mail after the SELECT is the watcher's to fetch: it is not lost in the answer.
    assert_eq!(a.after, [Seen::Exists(2)]);
    // No `* SEARCH` at all is not "nothing unread".
    let held = lines(&[
        "* OK [UIDVALIDITY 9] x",
        "* OK [UIDNEXT 2] x",
        "P1 OK",
        "P2 OK",
    ]);
    let a = read(&p, &tags(2), &held);
    assert!(!a.usable());
    assert_eq!(a.unseen, None);
}

#[test]
fn a_refusal_or_a_missing_piece_sends_the_watcher_the_slow_way() {
    let p = plan(true, true, true);
    let ok_select = [
        "P1 OK",
        "* OK [UIDVALIDITY 9] x",
        "* OK [UIDNEXT 2] x",
        "P2 OK",
        "* ESEARCH (TAG \"P3\") UID COUNT 0",
        "P3 OK",
    ];
    // NOTIFY refused: the folder is settled; only NOTIFY is asked again.
    let mut held = ok_select.to_vec();
    held.push("P4 NO [NOTIFICATIONOVERFLOW] too many");
    let a = read(&p, &tags(4), &lines(&held));
    assert!(a.usable(), "{a:?}");
    assert_eq!(a.unseen, Some(HashSet::new()));
    let notify = a.notify.expect("answered");
    assert!(!notify.ok);
    assert_eq!(notify.status.status, "NO");
    assert_eq!(notify.status.code.as_deref(), Some("NOTIFICATIONOVERFLOW"));
    assert_eq!(notify.status.text, "too many");
    for broken in [
        // The folder is not there (the rest fails with it).
        &[
            "P1 OK",
            "P2 NO [NONEXISTENT] Mailbox doesn't exist",
            "P3 BAD No mailbox selected",
            "P4 OK",
        ][..],
        // No UIDNEXT: it must be asked for.
        &[
            "P1 OK",
            "* OK [UIDVALIDITY 9] x",
            "P2 OK",
            "* ESEARCH (TAG \"P3\") UID COUNT 0",
            "P3 OK",
            "P4 OK",
        ],
        // The search refused.
        &[
            "P1 OK",
            "* OK [UIDVALIDITY 9] x",
            "* OK [UIDNEXT 2] x",
            "P2 OK",
            "P3 NO busy",
            "P4 OK",
        ],
        // An ESEARCH that is not ours, or none.
        &[
            "P1 OK",
            "* OK [UIDVALIDITY 9] x",
            "* OK [UIDNEXT 2] x",
            "P2 OK",
            "* ESEARCH (TAG \"A9\") UID ALL 1",
            "P3 OK",
            "P4 OK",
        ],
        // An unreadable line.
        &[
            "P1 OK",
            "* OK [UIDVALIDITY 9] x",
            "* OK [UIDNEXT 2] x",
            "* 1 FETCH (((",
            "P2 OK",
        ],
        // A tagged line out of order.
        &["P2 OK", "P1 OK"],
        // The server is leaving.
        &[
            "P1 OK",
            "* OK [UIDVALIDITY 9] x",
            "* OK [UIDNEXT 2] x",
            "P2 OK",
            "* BYE shutting down",
            "P3 OK",
            "P4 OK",
        ],
    ] {
        let a = read(&p, &tags(4), &lines(broken));
        assert!(!a.usable(), "{broken:?} → {a:?}");
    }
}

#[test]
fn qresync_changes_count_only_when_the_server_resynchronised() {
    let mut p = plan(false, true, false);
    p.known = Some(Known {
        uidvalidity: 9,
        modseq: 5,
    });
    assert_eq!(p.commands()[0], "SELECT \"INBOX\" (QRESYNC (9 5))");
    let held = lines(&[
        "* OK [UIDVALIDITY 9] x",
        "* OK [UIDNEXT 5] x",
        "* VANISHED (EARLIER) 2",
        "* 1 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (6))",
        "P1 OK",
        "* ESEARCH (TAG \"P2\") UID COUNT 1 ALL 4",
        "P2 OK",
    ]);
    let a = read(&p, &tags(2), &held);
    assert!(a.usable(), "{a:?}");
    let changes = a.selected.changes.expect("resynchronised");
    assert_eq!(changes.vanished, HashSet::from([2]));
    assert_eq!(changes.seen, HashSet::from([3]));
    // A new UIDVALIDITY: no changes (the caller starts over).
    let held = lines(&[
        "* OK [UIDVALIDITY 10] x",
        "* OK [UIDNEXT 5] x",
        "P1 OK",
        "* ESEARCH (TAG \"P2\") UID COUNT 0",
        "P2 OK",
    ]);
    assert_eq!(read(&p, &tags(2), &held).selected.changes, None);
}
