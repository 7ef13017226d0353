//! INTERNALDATE (RFC 3501 §2.3.3): when the server received a message, and from it how long
//! Pushmail took to announce it — the figure `new_mail`'s `delay_ms` carries
//! (`docs/events.md`).
//!
//! Three things make that figure less exact than it looks, and each is handled here:
//!
//! - **Whole seconds.** The form is `07-Dec-2026 10:31:41 +0000`; Dovecot stores whole
//!   seconds. A message that reached the server at 10:31:41.9 is dated 10:31:41, so the delay
//!   measured from it is up to a second *more* than the true one, never less: a measured
//!   1.3 s means somewhere between 0.3 s and 1.3 s. Front ends say "within a second" below
//!   1 s, never "0.4 s".
//! - **Two clocks.** The date is the server's clock, the announcement ours. A server clock
//!   ahead of ours makes the delay negative; one far behind makes it huge. Either is shown as
//!   nothing rather than as a wrong number ([`InternalDate::delay_ms`]).
//! - **Not always the arrival.** A message copied, moved or appended by another client keeps
//!   the date it was given (RFC 3501 `APPEND` may set it): mail dragged back from Spam is
//!   "late" by however long it sat there. Per-account figures use the median, which a few of
//!   those do not move.
//!
//! The parser is strict about the shape (it is the server's own field, not a sender's). A
//! pushed `FETCH` and the pipelined one hand over the text ([`InternalDate::parse`]);
//! async-imap's `Fetch` hands over its own parse of it ([`InternalDate::from_offset`]).

use std::time::SystemTime;

/// A delay above this is not believed: a day covers any real delivery, and a larger figure
/// is a server clock that is wrong (or a message filed with an old date, see the module
/// header).
pub const PLAUSIBLE_MAX_MS: u64 = 24 * 60 * 60 * 1000;

/// When a message reached the server, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InternalDate {
    /// Unix time, seconds.
    pub unix: i64,
    /// The server's zone as it wrote it, minutes east of UTC.
    pub offset_minutes: i16,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

impl InternalDate {
    /// Reads the server's form, `dd-Mon-yyyy hh:mm:ss ±hhmm` (the day may be space-padded,
    /// ` 7-Dec-2026`, or one digit; the month in any case). `None` for anything else,
    /// including dates that do not exist (31-Feb) and zones beyond ±23:59.
    pub fn parse(text: &str) -> Option<InternalDate> {
        let text = text.trim();
        let (date, rest) = text.split_once(' ')?;
        let (time, zone) = rest.trim_start().split_once(' ')?;
        let mut d = date.split('-');
        let day: u8 = digits(d.next()?, 1, 2)?;
        let month_name = d.next()?.to_ascii_lowercase();
        let month = MONTHS.iter().position(|m| *m == month_name)? + 1;
        let year: u16 = digits(d.next()?, 4, 4)?;
        if d.next().is_some() {
            return None;
        }
        let mut t = time.split(':');
        let hour: u8 = digits(t.next()?, 2, 2)?;
        let minute: u8 = digits(t.next()?, 2, 2)?;
        // A leap second (60) is the last second of its minute to us.
        let second: u8 = digits::<u8>(t.next()?, 2, 2)?.min(59);
        if t.next().is_some() || hour > 23 || minute > 59 {
            return None;
        }
        let (sign, zone) = match zone.trim_end().as_bytes().first()? {
            b'+' => (1, &zone[1..]),
            b'-' => (-1, &zone[1..]),
            _ => return None,
        };
        let zone: u16 = digits(zone.trim_end(), 4, 4)?;
        let (zone_hours, zone_minutes) = (zone / 100, zone % 100);
        if zone_hours > 23 || zone_minutes > 59 {
            return None;
        }
        let month = u8::try_from(month).ok()?;
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let local = mail_parser::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            tz_before_gmt: false,
            tz_hour: 0,
            tz_minute: 0,
        }
        .to_timestamp_local();
        let offset_minutes = sign * i16::try_from(zone_hours * 60 + zone_minutes).ok()?;
        Some(InternalDate {
            unix: local - i64::from(offset_minutes) * 60,
            offset_minutes,
        })
    }

    /// The instant `unix` written in a zone `offset_seconds` east of UTC (what a parsed date
    /// of async-imap's gives: `timestamp()`, `offset().local_minus_utc()`).
    pub fn from_offset(unix: i64, offset_seconds: i32) -> InternalDate {
        InternalDate {
            unix,
            offset_minutes: i16::try_from((offset_seconds / 60).clamp(-1439, 1439)).unwrap_or(0),
        }
    }

    /// RFC 3339 in the server's own zone (`2026-12-07T10:31:41Z`, `…T11:31:41+01:00`): the
    /// instant it says, as it said it.
    pub fn to_rfc3339(&self) -> String {
        let offset = i64::from(self.offset_minutes);
        let mut civil = mail_parser::DateTime::from_timestamp(self.unix + offset * 60);
        let east = offset.unsigned_abs();
        civil.tz_before_gmt = offset < 0;
        civil.tz_hour = u8::try_from(east / 60).unwrap_or(0);
        civil.tz_minute = u8::try_from(east % 60).unwrap_or(0);
        civil.to_rfc3339()
    }

    /// Milliseconds from this date to `now`, if plausible: not negative (the server's clock
    /// ahead of ours) and at most [`PLAUSIBLE_MAX_MS`]. Up to a second more than the true
    /// delay (see the module header).
    pub fn delay_ms(&self, now: SystemTime) -> Option<u64> {
        let now_ms = match now.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i128::try_from(d.as_millis()).ok()?,
            Err(_) => return None,
        };
        let delay = now_ms - i128::from(self.unix) * 1000;
        u64::try_from(delay)
            .ok()
            .filter(|ms| *ms <= PLAUSIBLE_MAX_MS)
    }
}

/// A number of `min..=max` ASCII digits.
fn digits<T: std::str::FromStr>(s: &str, min: usize, max: usize) -> Option<T> {
    if !(min..=max).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn at(unix_ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(unix_ms)
    }

    #[test]
    fn reads_the_servers_form() {
        // Dovecot 2.3's, as recorded in a NOTIFY push (rfc2177_idle's tests).
        let d = InternalDate::parse("07-Dec-2026 10:31:41 +0000").unwrap();
        assert_eq!(d.unix, 1_796_639_501);
        assert_eq!(d.to_rfc3339(), "2026-12-07T10:31:41Z");
        // The same instant written in other zones.
        let rome = InternalDate::parse("07-Dec-2026 11:31:41 +0100").unwrap();
        assert_eq!(rome.unix, d.unix);
        assert_eq!(rome.to_rfc3339(), "2026-12-07T11:31:41+01:00");
        let newfoundland = InternalDate::parse(" 7-dec-2026 07:01:41 -0330").unwrap();
        assert_eq!(newfoundland.unix, d.unix);
        assert_eq!(newfoundland.to_rfc3339(), "2026-12-07T07:01:41-03:30");
        // One digit for the day, a leap second, a leap day.
        assert_eq!(
            InternalDate::parse("7-Dec-2026 10:31:41 +0000")
                .unwrap()
                .unix,
            d.unix
        );
        assert_eq!(
            InternalDate::parse("31-Dec-2016 23:59:60 +0000")
                .unwrap()
                .to_rfc3339(),
            "2016-12-31T23:59:59Z"
        );
        assert!(InternalDate::parse("29-Feb-2028 00:00:00 +0000").is_some());
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "07-Dec-2026",
            "07-Dec-2026 10:31:41",
            "07-Dez-2026 10:31:41 +0000",
            "07-Dec-26 10:31:41 +0000",
            "07-Dec-2026 24:00:00 +0000",
            "07-Dec-2026 10:60:00 +0000",
            "07-Dec-2026 10:31 +0000",
            "07-Dec-2026 10:31:41 0000",
            "07-Dec-2026 10:31:41 +2400",
            "07-Dec-2026 10:31:41 +01:00",
            "31-Feb-2026 10:31:41 +0000",
            "29-Feb-2026 10:31:41 +0000",
            "00-Dec-2026 10:31:41 +0000",
            "07-Dec-2026-1 10:31:41 +0000",
            "+7-Dec-2026 10:31:41 +0000",
            "Mon, 07 Dec 2026 10:31:41 +0000",
        ] {
            assert_eq!(InternalDate::parse(bad), None, "{bad:?}");
        }
    }

    /// The plausibility rule: a delay is shown only when the two clocks can both be right.
    #[test]
    fn a_delay_is_believed_only_between_zero_and_a_day() {
        let d = InternalDate::parse("07-Dec-2026 10:31:41 +0000").unwrap();
        let received_ms = 1_796_639_501_000;
        // Announced 0.4 s into the second the server dated it: 400 ms.
        assert_eq!(d.delay_ms(at(received_ms + 400)), Some(400));
        assert_eq!(d.delay_ms(at(received_ms)), Some(0));
        assert_eq!(d.delay_ms(at(received_ms + 2_750)), Some(2_750));
        // Our clock behind the server's: negative, not shown.
        assert_eq!(d.delay_ms(at(received_ms - 1)), None);
        // A day is the most believed; more is a wrong clock (or an old message filed late).
        assert_eq!(
            d.delay_ms(at(received_ms + PLAUSIBLE_MAX_MS)),
            Some(PLAUSIBLE_MAX_MS)
        );
        assert_eq!(d.delay_ms(at(received_ms + PLAUSIBLE_MAX_MS + 1)), None);
        // Before 1970 on our side: nothing.
        let old = InternalDate::parse("01-Jan-1960 00:00:00 +0000").unwrap();
        assert_eq!(old.unix, -315_619_200);
        assert_eq!(old.delay_ms(SystemTime::UNIX_EPOCH), None);
    }

    proptest! {
        /// Whatever the zone, what is written out is read back as the same instant, and
        /// nothing panics on arbitrary text.
        #[test]
        fn written_dates_read_back(unix in 0i64..4_102_444_800, offset in -1439i16..=1439) {
            let d = InternalDate { unix, offset_minutes: offset };
            let civil = mail_parser::DateTime::from_timestamp(unix + i64::from(offset) * 60);
            let east = offset.unsigned_abs();
            let text = format!(
                "{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}",
                civil.day,
                ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"][usize::from(civil.month) - 1],
                civil.year, civil.hour, civil.minute, civil.second,
                if offset < 0 { '-' } else { '+' }, east / 60, east % 60,
            );
            prop_assert_eq!(InternalDate::parse(&text), Some(d));
            let rfc3339 = d.to_rfc3339();
            let back = mail_parser::DateTime::parse_rfc3339(&rfc3339).unwrap();
            prop_assert_eq!(back.to_timestamp(), unix);
        }

        #[test]
        fn any_text_is_read_or_refused(text in "\\PC{0,40}") {
            let _ = InternalDate::parse(&text);
        }
    }
}
