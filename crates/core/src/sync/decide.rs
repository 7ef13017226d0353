//! Pure decisions about which messages are new. No I/O: tested with tables and properties.
//!
//! The model: per (account, folder) we keep UIDVALIDITY and a *watermark*, the lowest UID that
//! has not yet been considered. IMAP UIDs only grow within one UIDVALIDITY, so "new" is simply
//! "UID ≥ watermark", and raising the watermark after each announcement makes every message
//! announced once.

/// What is stored for a folder between sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderMark {
    pub uidvalidity: u32,
    /// Lowest UID not yet considered for a notification.
    pub watermark: u32,
}

/// What to do when a folder has just been selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconcile {
    /// Never seen before: remember the current UIDNEXT, announce nothing old.
    Baseline(FolderMark),
    /// Same mailbox as before: everything from `watermark` up arrived while we were away.
    CatchUp(FolderMark),
    /// UIDVALIDITY changed (the mailbox was recreated or the server rebuilt it): old UIDs mean
    /// nothing now, and announcing the whole folder would be a flood. Start over silently.
    Rebaseline(FolderMark),
    /// The server's UIDNEXT went backwards without a UIDVALIDITY change — a server restored
    /// from backup. UIDs at or above the server's UIDNEXT will be reused for new mail, so the
    /// watermark must come down to meet them.
    Rewind(FolderMark),
}

impl Reconcile {
    pub fn mark(self) -> FolderMark {
        match self {
            Reconcile::Baseline(m)
            | Reconcile::CatchUp(m)
            | Reconcile::Rebaseline(m)
            | Reconcile::Rewind(m) => m,
        }
    }
}

/// Decides what a fresh SELECT means, given what was stored.
pub fn reconcile(stored: Option<FolderMark>, uidvalidity: u32, uidnext: u32) -> Reconcile {
    let fresh = FolderMark {
        uidvalidity,
        watermark: uidnext,
    };
    match stored {
        None => Reconcile::Baseline(fresh),
        Some(s) if s.uidvalidity != uidvalidity => Reconcile::Rebaseline(fresh),
        Some(s) if s.watermark > uidnext => Reconcile::Rewind(fresh),
        Some(s) => Reconcile::CatchUp(s),
    }
}

/// One message as seen in a FETCH: its UID and whether it is already `\Seen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub uid: u32,
    pub seen: bool,
}

/// The UIDs to announce, ascending: at or above the watermark, not yet read, each once.
/// (`UID FETCH w:*` returns the highest message even when it is below `w`, hence the filter.)
pub fn to_announce(watermark: u32, fetched: &[Candidate]) -> Vec<u32> {
    let mut uids: Vec<u32> = fetched
        .iter()
        .filter(|c| c.uid >= watermark && !c.seen)
        .map(|c| c.uid)
        .collect();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// The watermark after a fetch: past every UID fetched at or above it, read or not, so a message
/// that arrived already read is never announced later when it is marked unread.
pub fn next_watermark(watermark: u32, fetched: &[Candidate]) -> u32 {
    fetched
        .iter()
        .filter(|c| c.uid >= watermark)
        .map(|c| c.uid.saturating_add(1))
        .max()
        .unwrap_or(watermark)
        .max(watermark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(uid: u32, seen: bool) -> Candidate {
        Candidate { uid, seen }
    }

    #[test]
    fn reconcile_table() {
        let m = |v, w| FolderMark {
            uidvalidity: v,
            watermark: w,
        };
        assert_eq!(reconcile(None, 7, 100), Reconcile::Baseline(m(7, 100)));
        assert_eq!(
            reconcile(Some(m(7, 90)), 7, 100),
            Reconcile::CatchUp(m(7, 90))
        );
        assert_eq!(
            reconcile(Some(m(7, 100)), 7, 100),
            Reconcile::CatchUp(m(7, 100))
        );
        assert_eq!(
            reconcile(Some(m(7, 90)), 8, 5),
            Reconcile::Rebaseline(m(8, 5))
        );
        assert_eq!(
            reconcile(Some(m(7, 120)), 7, 100),
            Reconcile::Rewind(m(7, 100))
        );
    }

    #[test]
    fn star_quirk_and_seen_are_filtered() {
        // Watermark 10, server returns the last message (UID 9) for `10:*`.
        assert!(to_announce(10, &[c(9, false)]).is_empty());
        assert_eq!(next_watermark(10, &[c(9, false)]), 10);
        assert_eq!(
            to_announce(10, &[c(12, false), c(10, true), c(11, false), c(11, false)]),
            vec![11, 12]
        );
        assert_eq!(next_watermark(10, &[c(12, false), c(13, true)]), 14);
    }

    proptest! {
        /// Announcing in any number of rounds never repeats a UID and never skips an unread one.
        #[test]
        fn rounds_announce_each_unread_once(
            msgs in proptest::collection::btree_map(1u32..500, any::<bool>(), 0..60),
            cuts in proptest::collection::vec(0usize..60, 0..5),
        ) {
            let all: Vec<Candidate> = msgs.iter().map(|(&uid, &seen)| c(uid, seen)).collect();
            let mut w = 1;
            let mut announced = Vec::new();
            let mut cuts = cuts;
            cuts.push(all.len());
            cuts.sort_unstable();
            for cut in cuts {
                // The server shows the first `cut` messages; a FETCH w:* returns those ≥ w,
                // or the last one if none is.
                let visible = &all[..cut.min(all.len())];
                let mut fetched: Vec<Candidate> = visible.iter().copied().filter(|m| m.uid >= w).collect();
                if fetched.is_empty() && let Some(last) = visible.last() { fetched.push(*last); }
                announced.extend(to_announce(w, &fetched));
                w = next_watermark(w, &fetched);
            }
            let expected: Vec<u32> = all.iter().filter(|m| !m.seen).map(|m| m.uid).collect();
            prop_assert_eq!(announced, expected);
        }
    }
}
