//! IMAP NOTIFY (RFC 5465) and the STATUS bookkeeping it needs (pure).
//!
//! With NOTIFY a server reports changes in non-selected folders as untagged STATUS responses.
//! Those may be *partial* (only the items that changed) and *redundant* (repeating what is
//! known), so they are merged into what we know and only real changes count.

use imap_proto::StatusAttribute;

/// What we know about a folder from STATUS (all items optional: servers send subsets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FolderStatus {
    pub messages: Option<u32>,
    pub uidnext: Option<u32>,
    pub uidvalidity: Option<u32>,
    pub unseen: Option<u32>,
    pub highestmodseq: Option<u64>,
}

/// What a merged STATUS changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusChange {
    /// UIDNEXT grew (or UIDVALIDITY changed): there may be new mail to announce.
    pub new_mail: bool,
    /// Something else moved (unread count, message count, modseq): recount.
    pub other: bool,
}

impl StatusChange {
    pub fn any(self) -> bool {
        self.new_mail || self.other
    }
}

impl FolderStatus {
    pub fn from_attributes(attrs: &[StatusAttribute]) -> FolderStatus {
        let mut s = FolderStatus::default();
        for a in attrs {
            match *a {
                StatusAttribute::Messages(n) => s.messages = Some(n),
                StatusAttribute::UidNext(n) => s.uidnext = Some(n),
                StatusAttribute::UidValidity(n) => s.uidvalidity = Some(n),
                StatusAttribute::Unseen(n) => s.unseen = Some(n),
                StatusAttribute::HighestModSeq(n) => s.highestmodseq = Some(n),
                // RECENT, and anything newer imap-proto learns, changes nothing we show.
                _ => {}
            }
        }
        s
    }

    /// Merges a (possibly partial, possibly redundant) STATUS into what is known.
    pub fn merge(&mut self, update: FolderStatus) -> StatusChange {
        let mut change = StatusChange::default();
        if let Some(v) = update.uidvalidity {
            if self.uidvalidity.is_some_and(|old| old != v) {
                change.new_mail = true;
            }
            self.uidvalidity = Some(v);
        }
        if let Some(n) = update.uidnext {
            // Unknown before, or grew: look. (UIDNEXT never shrinks on a sane server; if it does,
            // the folder session's reconcile handles it.)
            if self.uidnext.is_none_or(|old| n != old) {
                change.new_mail = true;
            }
            self.uidnext = Some(n);
        }
        let mut other = |old: &mut Option<u32>, new: Option<u32>| {
            if let Some(n) = new {
                if *old != Some(n) {
                    change.other = true;
                }
                *old = Some(n);
            }
        };
        other(&mut self.messages, update.messages);
        other(&mut self.unseen, update.unseen);
        if let Some(m) = update.highestmodseq {
            if self.highestmodseq != Some(m) {
                change.other = true;
            }
            self.highestmodseq = Some(m);
        }
        // MESSAGES grew without UIDNEXT in the update: a server that only sends counts.
        if update.uidnext.is_none() && change.other && update.messages.is_some() {
            change.new_mail = true;
        }
        change
    }
}

/// Quotes a mailbox name for a command (names here are already modified UTF-7).
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The names to list for one folder in `NOTIFY SET … (MAILBOXES …)`: its modified UTF-7 name
/// (what RFC 5465 means), and with `utf8_alias`, when that differs, its UTF-8 name as well.
///
/// Dovecot 2.3 compares the names given to NOTIFY with its own (UTF-8) names without decoding
/// them first, so a folder called `客户` (`&W6JiNw-`), `Clients Ünïcode` or `R&D` (`R&-D`)
/// listed by its wire name alone is never reported — no STATUS at NOTIFY SET, none when mail
/// arrives (verified against 2.3.19 with a raw client; its STATUS responses then name the folder
/// in UTF-8, as a literal, which [`crate::imap::utf7::decode`] passes through unchanged). The
/// alias matches there; a server that decodes properly sees a name it does not have, which
/// NOTIFY allows. A name with control characters gets no alias: it could not be quoted.
pub fn notify_names(name: &str, utf8_alias: bool) -> Vec<String> {
    let wire = super::utf7::encode(name);
    let mut out = vec![quote(&wire)];
    if utf8_alias && wire != name && !name.chars().any(char::is_control) {
        out.push(quote(name));
    }
    out
}

/// `NOTIFY SET` for the selected folder plus the others (decoded names, see [`notify_names`]):
/// message events for the selected one (it is in IDLE: EXISTS/EXPUNGE/FETCH arrive as usual),
/// STATUS responses for the rest. `STATUS` after `SET` makes the server report every listed
/// folder once at once, which closes the gap between our own look at a folder and the moment
/// NOTIFY starts (and shows which folders the server matched).
///
/// With `fetch`, `MessageNew` in the selected folder carries `(UID FLAGS ENVELOPE
/// INTERNALDATE)` (RFC 5465 §5.2): the server pushes what a notification needs with the
/// `EXISTS`, and the watcher announces it without leaving IDLE — no round trip. Dovecot 2.3
/// accepts fetch attributes that are atoms only (`BODY.PEEK[…]` is refused), hence ENVELOPE.
/// With no other folder the `MAILBOXES` part (and `STATUS`) is left out.
pub fn notify_set(others: &[String], utf8_alias: bool, fetch: bool) -> String {
    const EVENTS: &str = "(MessageNew MessageExpunge FlagChange)";
    const SELECTED_FETCH: &str =
        "(MessageNew (UID FLAGS ENVELOPE INTERNALDATE) MessageExpunge FlagChange)";
    let selected = if fetch { SELECTED_FETCH } else { EVENTS };
    if others.is_empty() {
        return format!("NOTIFY SET (SELECTED {selected})");
    }
    let list: Vec<String> = others
        .iter()
        .flat_map(|n| notify_names(n, utf8_alias))
        .collect();
    format!(
        "NOTIFY SET STATUS (SELECTED {selected}) (MAILBOXES ({}) {EVENTS})",
        list.join(" ")
    )
}

/// Whether [`notify_set`] with `utf8_alias` lists anything more than without.
pub fn needs_alias(others: &[String]) -> bool {
    others.iter().any(|n| notify_names(n, true).len() > 1)
}

/// What the watcher itself knows about a folder after its last look (SELECT, fetch, search).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalView {
    pub uidvalidity: u32,
    /// Lowest UID not yet considered: every UID below it has been looked at.
    pub watermark: u32,
    /// Messages in the folder at the last SELECT.
    pub messages: u32,
    /// Unread messages at the last `UID SEARCH UNSEEN`.
    pub unseen: u32,
}

/// Whether the server's view (merged STATUS) says the folder changed since our last look: new
/// mail, mail gone, or a different unread count. Items the server never sent do not count.
pub fn stale(server: &FolderStatus, local: &LocalView) -> bool {
    server.uidvalidity.is_some_and(|v| v != local.uidvalidity)
        || server.uidnext.is_some_and(|n| n > local.watermark)
        || server.messages.is_some_and(|m| m != local.messages)
        || server.unseen.is_some_and(|u| u != local.unseen)
}

/// The STATUS items asked for in sweeps.
pub fn status_items(condstore: bool) -> &'static str {
    if condstore {
        "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)"
    } else {
        "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(messages: Option<u32>, uidnext: Option<u32>, unseen: Option<u32>) -> FolderStatus {
        FolderStatus {
            messages,
            uidnext,
            unseen,
            ..FolderStatus::default()
        }
    }

    /// A recorded Dovecot 2.3 NOTIFY transcript: a full STATUS when mail arrives, then a partial
    /// one (only UNSEEN) when it is read elsewhere, then a redundant repeat.
    #[test]
    fn merges_partial_and_redundant_status() {
        let mut known = st(Some(3), Some(4), Some(1));
        let c = known.merge(st(Some(4), Some(5), Some(2)));
        assert_eq!(
            c,
            StatusChange {
                new_mail: true,
                other: true
            }
        );
        let c = known.merge(st(None, None, Some(1)));
        assert_eq!(
            c,
            StatusChange {
                new_mail: false,
                other: true
            }
        );
        assert_eq!(known, st(Some(4), Some(5), Some(1)));
        assert!(
            !known.merge(st(Some(4), Some(5), Some(1))).any(),
            "redundant STATUS changes nothing"
        );
        assert!(!known.merge(FolderStatus::default()).any());
    }

    #[test]
    fn parses_imap_proto_attributes() {
        let s = FolderStatus::from_attributes(&[
            StatusAttribute::Messages(10),
            StatusAttribute::UidNext(11),
            StatusAttribute::Unseen(2),
            StatusAttribute::HighestModSeq(99),
            StatusAttribute::Recent(1),
        ]);
        assert_eq!(s.messages, Some(10));
        assert_eq!(s.highestmodseq, Some(99));
        assert_eq!(s.uidvalidity, None);
    }

    #[test]
    fn uidvalidity_change_means_look_again() {
        let mut known = FolderStatus {
            uidvalidity: Some(1),
            uidnext: Some(5),
            ..Default::default()
        };
        let c = known.merge(FolderStatus {
            uidvalidity: Some(2),
            uidnext: Some(1),
            ..Default::default()
        });
        assert!(c.new_mail);
    }

    /// The transcript of one NOTIFY session on Dovecot 2.3 (recorded with a raw client): the
    /// initial STATUS for each folder, a delivery to Lists, a read in Lists, and a redundant
    /// repeat. Only real changes make the folder stale.
    #[test]
    fn notify_transcript_marks_only_changed_folders_stale() {
        let local = LocalView {
            uidvalidity: 1_700_000_001,
            watermark: 4,
            messages: 3,
            unseen: 1,
        };
        let mut known = FolderStatus::default();
        let transcript: [(&[StatusAttribute], bool); 4] = [
            // * STATUS Lists (MESSAGES 3 UIDNEXT 4 UNSEEN 1 HIGHESTMODSEQ 7)
            (
                &[
                    StatusAttribute::Messages(3),
                    StatusAttribute::UidNext(4),
                    StatusAttribute::Unseen(1),
                    StatusAttribute::HighestModSeq(7),
                ],
                false,
            ),
            // * STATUS Lists (MESSAGES 4 UIDNEXT 5 UNSEEN 2 HIGHESTMODSEQ 8)
            (
                &[
                    StatusAttribute::Messages(4),
                    StatusAttribute::UidNext(5),
                    StatusAttribute::Unseen(2),
                    StatusAttribute::HighestModSeq(8),
                ],
                true,
            ),
            // * STATUS Lists (UNSEEN 1 HIGHESTMODSEQ 9): partial
            (
                &[
                    StatusAttribute::Unseen(1),
                    StatusAttribute::HighestModSeq(9),
                ],
                true,
            ),
            // * STATUS Lists (MESSAGES 4 UIDNEXT 5 UNSEEN 1): redundant
            (
                &[
                    StatusAttribute::Messages(4),
                    StatusAttribute::UidNext(5),
                    StatusAttribute::Unseen(1),
                ],
                true,
            ),
        ];
        let mut local = local;
        for (i, (attrs, want)) in transcript.iter().enumerate() {
            known.merge(FolderStatus::from_attributes(attrs));
            assert_eq!(stale(&known, &local), *want, "line {i}: {known:?}");
            if i == 1 {
                // The watcher looked: its view now matches the server's (4 messages, 2 unread);
                // then the read elsewhere makes it stale again.
                local = LocalView {
                    watermark: 5,
                    messages: 4,
                    unseen: 2,
                    ..local
                };
            }
        }
        local.unseen = 1;
        assert!(
            !stale(&known, &local),
            "after the second look nothing is pending"
        );
        // A server that sends nothing but HIGHESTMODSEQ changes nothing we show.
        assert!(!stale(
            &FolderStatus {
                highestmodseq: Some(99),
                ..FolderStatus::default()
            },
            &local
        ));
    }

    #[test]
    fn notify_command_quotes_names() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(
            notify_set(&["Lists".into(), "a\"b".into()], true, false),
            "NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge FlagChange)) (MAILBOXES (\"Lists\" \"a\\\"b\") (MessageNew MessageExpunge FlagChange))"
        );
        // With fetch attributes: the selected folder's new mail comes with its envelope.
        assert_eq!(
            notify_set(&["Lists".into()], true, true),
            "NOTIFY SET STATUS (SELECTED (MessageNew (UID FLAGS ENVELOPE INTERNALDATE) \
             MessageExpunge FlagChange)) (MAILBOXES (\"Lists\") (MessageNew MessageExpunge FlagChange))"
        );
        // One folder: only the selected one.
        assert_eq!(
            notify_set(&[], true, true),
            "NOTIFY SET (SELECTED (MessageNew (UID FLAGS ENVELOPE INTERNALDATE) MessageExpunge \
             FlagChange))"
        );
        assert!(!needs_alias(&["Lists".into(), "Clients X".into()]));
    }

    /// Names that are not the same on the wire are listed twice: modified UTF-7 (RFC 5465) and
    /// UTF-8 (what Dovecot 2.3 matches), so Chinese, Arabic, accented and `&` names are reported.
    #[test]
    fn notify_lists_encoded_names_also_in_utf8() {
        let names: Vec<String> = ["客户", "العملاء", "Clients Ünïcode", "R&D", "Lists"]
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
        assert!(needs_alias(&names));
        assert_eq!(
            notify_set(&names, true, false),
            "NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge FlagChange)) (MAILBOXES \
             (\"&W6JiNw-\" \"客户\" \"&BicGRAY5BkUGRAYnBiE-\" \"العملاء\" \
             \"Clients &ANw-n&AO8-code\" \"Clients Ünïcode\" \"R&-D\" \"R&D\" \"Lists\") \
             (MessageNew MessageExpunge FlagChange))"
        );
        assert_eq!(
            notify_set(&names, false, false),
            "NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge FlagChange)) (MAILBOXES \
             (\"&W6JiNw-\" \"&BicGRAY5BkUGRAYnBiE-\" \"Clients &ANw-n&AO8-code\" \"R&-D\" \
             \"Lists\") (MessageNew MessageExpunge FlagChange))"
        );
        // A control character would break the command line: no alias, only the encoded name.
        assert_eq!(
            notify_names("a\r\nb", true),
            vec!["\"a&AA0ACg-b\"".to_owned()]
        );
    }

    /// Dovecot 2.3's STATUS for a folder matched by its UTF-8 alias names it in UTF-8, as a
    /// literal (recorded with a raw client); imap-proto hands the UTF-8 name through.
    #[test]
    fn dovecot_names_notified_folders_in_utf8_literals() {
        let line = "* STATUS {6}\r\n客户 (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 1795328504 UNSEEN 1 HIGHESTMODSEQ 2)\r\n";
        let (rest, r) = imap_proto::Response::parse(line.as_bytes()).unwrap();
        assert!(rest.is_empty());
        let imap_proto::Response::MailboxData(imap_proto::MailboxDatum::Status { mailbox, status }) =
            r
        else {
            panic!("{r:?}");
        };
        assert_eq!(mailbox, "客户");
        assert_eq!(crate::imap::utf7::decode(&mailbox), "客户");
        assert_eq!(FolderStatus::from_attributes(&status).uidnext, Some(2));
    }
}
