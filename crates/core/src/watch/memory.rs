//! What one account's watcher remembers from one session to the next (not across a restart of
//! the process): the decisions that keep a single message, or a full disk, from silencing the
//! account or repeating a notification.
//!
//! - **A message that cannot be read** (a header the server sends larger than our limits, a
//!   literal that lies about its size, a FETCH response that does not parse) breaks the
//!   connection every time it is fetched. Without memory, the reconnect's catch-up would fetch
//!   it again, fail again, forever, and nothing after it would ever be announced. So a failed
//!   fetch of new mail puts the folder under *care*: the next session lists the new UIDs with
//!   `UID FETCH … (UID FLAGS)` and reads their headers one at a time. A message whose own
//!   fetch fails is announced next time with what is known ("could not be read") and the
//!   watermark moves past it exactly once: at once when its bytes cannot be read (a parse
//!   error, a broken limit), after two failures in a row when it is a timeout, a refusal or
//!   a connection that ends right at it ([`STRIKES`]; a link can also simply drop). If the
//!   listing itself cannot be read twice, the UIDs present at SELECT are skipped with a
//!   logged reason; a listing that is refused or times out never makes the watcher skip mail.
//! - **A write to the state database that failed** (a full disk): the message was announced
//!   but not recorded. It is remembered here, so this process never announces it again, and
//!   until a write succeeds again nothing new is announced (see `Store::check_writable`): at
//!   most one message can be repeated, and only by a restart, as after a crash.
//!
//! Pure bookkeeping, tested below; the watcher (`watch/conn/announce.rs`) does the I/O.

use std::collections::{HashMap, HashSet};

use crate::error::ConnectError;

/// How many strikes make a message (or a folder's listing) unreadable. A protocol error or
/// a broken limit is deterministic and weighs [`STRIKES`] at once; a timeout might be a slow
/// link and weighs one, so only a second timeout on the same message gives up on it.
pub(crate) const STRIKES: u8 = 2;

/// Identifies one message across sessions.
type Key = (String, u32, u32);

#[derive(Debug, Default)]
pub(crate) struct Memory {
    /// Announced, but the store failed to record it: never announced again by this process.
    unrecorded: HashSet<Key>,
    /// A store write failed: check the store can be written before announcing anything.
    pub store_failed: bool,
    /// Folders whose new mail is read one message at a time, by folder name.
    careful: HashMap<String, Careful>,
    /// POP3: the last check worked, so what the next one finds arrived since (live mail, a
    /// popup each) rather than while the account could not be checked (a catch-up).
    pub pop3_ok: bool,
    /// POP3: what the last full listing ended with (`watch/pop3.rs`).
    pub pop3_last: Option<super::pop3::LastListing>,
    /// POP3: the count last reported, so a check that changes nothing says nothing.
    pub pop3_unread: Option<u32>,
    /// The server did not take the commands up to IDLE sent in one flight
    /// (`imap/one_flight.rs`): this account's sessions start one command at a time.
    pub one_flight_failed: bool,
}

/// A folder under care (see the module documentation), for one UIDVALIDITY.
#[derive(Debug)]
struct Careful {
    uidvalidity: u32,
    /// The fetch failed while the account was watching: the new mail arrived live, seconds
    /// ago, and is announced as live mail (a popup each), not as mail found after an absence.
    live: bool,
    /// Strikes per UID.
    strikes: HashMap<u32, u8>,
    /// Strikes against the listing of new UIDs itself (only unreadable listings count).
    listing: u8,
}

/// How much a failure counts against the message being fetched: `None` for a failure that
/// says nothing about the message (the network went away, the session was stopped).
pub(crate) fn strike_weight(error: &ConnectError) -> Option<u8> {
    use crate::error::ProtoCause;
    match error {
        // The server's bytes broke the parser or our limits: it will do so again.
        ConnectError::Protocol {
            cause: ProtoCause::Unparsable | ProtoCause::Limit(_) | ProtoCause::Other,
            ..
        } => Some(STRIKES),
        // A refusal (`NO [UNAVAILABLE]` to FETCH, say) or a timeout may be the server's
        // mood or the link: it counts, but only twice in a row makes it the message's.
        ConnectError::Protocol { .. } | ConnectError::Timeout(_) => Some(1),
        _ => None,
    }
}

/// How much a failure while reading one message on its own counts against it. The listing of
/// new UIDs has just succeeded on the same connection, so a connection that ends right at
/// this message (a server process that dies on it) is suspicious too — but only twice in a
/// row, since a link can also simply drop.
fn message_strike_weight(error: &ConnectError) -> Option<u8> {
    strike_weight(error).or(match error {
        ConnectError::Network { .. } => Some(1),
        _ => None,
    })
}

/// How much a failure of the flags-only listing counts: only the server's bytes. No header is
/// in it, so a refusal or a timeout there says nothing about a message — and giving up on the
/// listing skips mail, which only a response that cannot be read at all justifies.
fn listing_strike_weight(error: &ConnectError) -> Option<u8> {
    use crate::error::ProtoCause;
    match error {
        ConnectError::Protocol {
            cause: ProtoCause::Unparsable | ProtoCause::Limit(_) | ProtoCause::Other,
            ..
        } => Some(1),
        _ => None,
    }
}

impl Memory {
    pub fn was_announced(&self, folder: &str, uidvalidity: u32, uid: u32) -> bool {
        self.unrecorded
            .contains(&(folder.to_owned(), uidvalidity, uid))
    }

    pub fn announced_unrecorded(&mut self, folder: &str, uidvalidity: u32, uid: u32) {
        self.unrecorded
            .insert((folder.to_owned(), uidvalidity, uid));
    }

    /// Recorded at last: no longer this memory's business.
    pub fn recorded(&mut self, folder: &str, uidvalidity: u32, uid: u32) {
        self.unrecorded
            .remove(&(folder.to_owned(), uidvalidity, uid));
    }

    pub fn is_careful(&self, folder: &str, uidvalidity: u32) -> bool {
        self.careful
            .get(folder)
            .is_some_and(|c| c.uidvalidity == uidvalidity)
    }

    /// Fetching the folder's new mail failed with `error`: read it with care next time, if
    /// the failure could be the fault of a message. Returns whether the folder is under care.
    /// `live`: the session was watching (the mail was pushed, not found on reconnect).
    pub fn fetch_failed(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        error: &ConnectError,
        live: bool,
    ) -> bool {
        if strike_weight(error).is_none() {
            return false;
        }
        self.careful_entry(folder, uidvalidity).live |= live;
        true
    }

    /// Whether the folder came under care while watching (see [`Careful::live`]).
    pub fn cared_for_live(&self, folder: &str, uidvalidity: u32) -> bool {
        self.careful
            .get(folder)
            .is_some_and(|c| c.uidvalidity == uidvalidity && c.live)
    }

    /// Listing the new UIDs failed with `error` while under care. Returns true when it has
    /// failed often enough to give up on the UIDs present now.
    pub fn listing_failed(&mut self, folder: &str, uidvalidity: u32, error: &ConnectError) -> bool {
        let Some(weight) = listing_strike_weight(error) else {
            return false;
        };
        let c = self.careful_entry(folder, uidvalidity);
        c.listing = c.listing.saturating_add(weight);
        c.listing >= STRIKES
    }

    /// Whether the listing has failed often enough to skip what is there now.
    pub fn listing_unreadable(&self, folder: &str, uidvalidity: u32) -> bool {
        self.careful
            .get(folder)
            .is_some_and(|c| c.uidvalidity == uidvalidity && c.listing >= STRIKES)
    }

    /// Reading message `uid` failed with `error` while under care ([`message_strike_weight`]).
    pub fn message_failed(
        &mut self,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
        error: &ConnectError,
    ) {
        if let Some(weight) = message_strike_weight(error) {
            let c = self.careful_entry(folder, uidvalidity);
            let s = c.strikes.entry(uid).or_default();
            *s = s.saturating_add(weight);
        }
    }

    /// Whether message `uid` has failed often enough to be announced without its headers.
    pub fn unreadable(&self, folder: &str, uidvalidity: u32, uid: u32) -> bool {
        self.careful.get(folder).is_some_and(|c| {
            c.uidvalidity == uidvalidity && c.strikes.get(&uid).is_some_and(|s| *s >= STRIKES)
        })
    }

    /// Everything that was new has been looked at: back to one fetch for all new mail.
    pub fn caught_up(&mut self, folder: &str) {
        self.careful.remove(folder);
    }

    fn careful_entry(&mut self, folder: &str, uidvalidity: u32) -> &mut Careful {
        let c = self.careful.entry(folder.to_owned()).or_insert(Careful {
            uidvalidity,
            live: false,
            strikes: HashMap::new(),
            listing: 0,
        });
        if c.uidvalidity != uidvalidity {
            // A new mailbox identity: the old strikes name other messages.
            *c = Careful {
                uidvalidity,
                live: false,
                strikes: HashMap::new(),
                listing: 0,
            };
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{NetCause, ProtoCause, Step};
    use crate::imap::transport::framing::LimitError;

    #[test]
    fn a_message_that_fails_under_care_is_unreadable_a_lost_network_is_not_its_fault() {
        let mut m = Memory::default();
        let broken =
            ConnectError::protocol(ProtoCause::Limit(LimitError::LiteralTooLarge(262_144)));
        let slow = ConnectError::Timeout(Step::FetchingNew);
        let gone = ConnectError::network(NetCause::Lost);

        // Losing the network says nothing about the message: no care.
        assert!(!m.fetch_failed("INBOX", 7, &gone, true));
        assert!(!m.is_careful("INBOX", 7));
        assert!(m.fetch_failed("INBOX", 7, &broken, true));
        assert!(m.cared_for_live("INBOX", 7));
        assert!(m.is_careful("INBOX", 7));
        assert!(
            !m.is_careful("INBOX", 8),
            "another UIDVALIDITY is another mailbox"
        );

        // Bytes that cannot be read: the message's, at once.
        m.message_failed("INBOX", 7, 3, &broken);
        assert!(m.unreadable("INBOX", 7, 3));
        // A timeout, a refusal, a connection that ends right at this message (the listing
        // just worked): the message's only the second time in a row.
        let refused = ConnectError::protocol(ProtoCause::Refused).with_words("[UNAVAILABLE]");
        for (uid, error) in [(4, &slow), (5, &gone), (6, &refused)] {
            m.message_failed("INBOX", 7, uid, error);
            assert!(!m.unreadable("INBOX", 7, uid), "{error}");
            m.message_failed("INBOX", 7, uid, error);
            assert!(m.unreadable("INBOX", 7, uid), "{error}");
        }
        assert!(!m.unreadable("INBOX", 7, 9));

        m.caught_up("INBOX");
        assert!(!m.is_careful("INBOX", 7));
        assert!(!m.unreadable("INBOX", 7, 3));
    }

    #[test]
    fn a_new_uidvalidity_forgets_old_strikes() {
        let mut m = Memory::default();
        let broken = ConnectError::protocol(ProtoCause::Unparsable);
        m.message_failed("Work", 1, 9, &broken);
        assert!(m.unreadable("Work", 1, 9));
        m.message_failed("Work", 2, 10, &broken);
        assert!(!m.unreadable("Work", 1, 9));
        assert!(!m.unreadable("Work", 2, 9));
        assert!(m.unreadable("Work", 2, 10));
    }

    #[test]
    fn a_listing_that_keeps_failing_is_given_up() {
        let mut m = Memory::default();
        // A listing holds no header: a refusal, a timeout or a lost link there says nothing
        // about a message, and never makes the watcher skip mail.
        for error in [
            ConnectError::network(NetCause::Closed),
            ConnectError::Timeout(Step::ListingNew),
            ConnectError::protocol(ProtoCause::Refused).with_words("NO [UNAVAILABLE]"),
        ] {
            for _ in 0..5 {
                assert!(!m.listing_failed("INBOX", 1, &error), "{error}");
            }
        }
        assert!(!m.listing_unreadable("INBOX", 1));
        // Only a listing that cannot be read, twice, is given up on.
        let garbled = ConnectError::protocol(ProtoCause::Unparsable);
        assert!(!m.listing_failed("INBOX", 1, &garbled));
        assert!(m.listing_failed("INBOX", 1, &garbled));
        assert!(m.listing_unreadable("INBOX", 1));
    }

    #[test]
    fn an_unrecorded_announcement_is_remembered_until_recorded() {
        let mut m = Memory::default();
        m.announced_unrecorded("INBOX", 1, 5);
        assert!(m.was_announced("INBOX", 1, 5));
        assert!(!m.was_announced("INBOX", 2, 5));
        assert!(!m.was_announced("Work", 1, 5));
        m.recorded("INBOX", 1, 5);
        assert!(!m.was_announced("INBOX", 1, 5));
    }
}
