//! How fast Pushmail is, per account: the median time from a message reaching the server to
//! its announcement, over the last day (`GetDelays`, Settings → Accounts).
//!
//! Only live announcements count: a message found on (re)connect (`catch_up`) measures how
//! long Pushmail was away, not how fast it is. The median rather than the mean, because a
//! message filed by another client keeps an old INTERNALDATE and would drag a mean anywhere
//! (see `pushmail_core::imap::internal_date`). Memory is bounded: at most [`MAX_SAMPLES`] per
//! account (the newest), each 12 bytes; samples older than [`WINDOW_SECS`] are dropped as new
//! ones come and never counted.

use std::collections::{BTreeMap, VecDeque};

/// "The last day".
pub const WINDOW_SECS: i64 = 24 * 60 * 60;

/// The most samples kept per account: a busy day's worth (one live message every ~90 s
/// around the clock), 12 KB. Beyond it the median is of the newest ones.
pub const MAX_SAMPLES: usize = 1000;

/// One account's figure for `GetDelays`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Median {
    /// Milliseconds, as `delay_ms` measures it (up to a second more than the true delay).
    pub delay_ms: u32,
    /// How many announcements it is the median of.
    pub messages: u32,
}

#[derive(Debug, Default)]
pub struct Delays {
    /// Per account: (Unix seconds when announced, delay in ms), oldest first.
    accounts: BTreeMap<String, VecDeque<(i64, u32)>>,
}

impl Delays {
    /// Records a live announcement of `account` at `now` (Unix seconds) that came `delay_ms`
    /// after the message reached the server.
    pub fn record(&mut self, account: &str, now: i64, delay_ms: u64) {
        let Ok(delay_ms) = u32::try_from(delay_ms) else {
            return;
        };
        let samples = self.accounts.entry(account.to_owned()).or_default();
        while samples
            .front()
            .is_some_and(|(at, _)| *at <= now - WINDOW_SECS)
        {
            samples.pop_front();
        }
        if samples.len() >= MAX_SAMPLES {
            samples.pop_front();
        }
        samples.push_back((now, delay_ms));
    }

    /// The median of `account`'s announcements in the day before `now`, if there were any
    /// (of an even number, the mean of the middle two).
    pub fn median(&self, account: &str, now: i64) -> Option<Median> {
        let mut day: Vec<u32> = self
            .accounts
            .get(account)?
            .iter()
            .filter(|(at, _)| *at > now - WINDOW_SECS)
            .map(|(_, ms)| *ms)
            .collect();
        if day.is_empty() {
            return None;
        }
        let count = day.len();
        let (below, upper, _) = day.select_nth_unstable(count / 2);
        let upper = *upper;
        let delay_ms = if count % 2 == 1 {
            upper
        } else {
            // The largest of the lower half is the other middle value.
            let lower = below.iter().copied().max().unwrap_or(upper);
            u32::try_from((u64::from(lower) + u64::from(upper)) / 2).unwrap_or(upper)
        };
        Some(Median {
            delay_ms,
            messages: u32::try_from(count).unwrap_or(u32::MAX),
        })
    }

    /// Forgets accounts that are gone.
    pub fn retain_accounts(&mut self, keep: impl Fn(&str) -> bool) {
        self.accounts.retain(|id, _| keep(id));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const NOW: i64 = 1_796_639_501;

    #[test]
    fn the_median_of_the_last_day() {
        let mut d = Delays::default();
        assert_eq!(d.median("work", NOW), None);
        // Yesterday's slow mail (a day and a second ago) does not count any more.
        d.record("work", NOW - WINDOW_SECS - 1, 40_000);
        d.record("work", NOW - WINDOW_SECS, 40_000);
        for (i, ms) in [700, 300, 5_000, 450, 900].into_iter().enumerate() {
            d.record("work", NOW - 100 + i64::try_from(i).unwrap(), ms);
        }
        // 300 450 700 900 5000: a 5 s outlier does not move it.
        assert_eq!(
            d.median("work", NOW),
            Some(Median {
                delay_ms: 700,
                messages: 5
            })
        );
        // Even: the mean of the middle two (450, 700).
        d.record("work", NOW, 100);
        assert_eq!(d.median("work", NOW).unwrap().delay_ms, 575);
        // Accounts are apart, and gone ones forgotten.
        d.record("home", NOW, 2_000);
        assert_eq!(d.median("home", NOW).unwrap().delay_ms, 2_000);
        d.retain_accounts(|id| id == "work");
        assert_eq!(d.median("home", NOW), None);
        // A day later, nothing is left to say.
        assert_eq!(d.median("work", NOW + WINDOW_SECS), None);
    }

    /// Memory stays bounded whatever the rate: the newest [`MAX_SAMPLES`] are kept, and old
    /// ones are dropped as new ones come.
    #[test]
    fn bounded_in_memory() {
        let mut d = Delays::default();
        for i in 0..(MAX_SAMPLES as i64 * 3) {
            // The first thousand are slow, the rest fast: the median follows the newest.
            let ms = if i < MAX_SAMPLES as i64 { 9_000 } else { 400 };
            d.record("work", NOW + i, ms);
        }
        assert_eq!(d.accounts["work"].len(), MAX_SAMPLES);
        assert_eq!(
            d.median("work", NOW + MAX_SAMPLES as i64 * 3),
            Some(Median {
                delay_ms: 400,
                messages: u32::try_from(MAX_SAMPLES).unwrap()
            })
        );
        // One message a day later leaves one sample, not a day's backlog.
        d.record("work", NOW + MAX_SAMPLES as i64 * 3 + WINDOW_SECS, 800);
        assert_eq!(d.accounts["work"].len(), 1);
        // A delay beyond u32 (never plausible) is not recorded.
        d.record("work", NOW, u64::MAX);
        assert_eq!(d.accounts["work"].len(), 1);
    }
}
