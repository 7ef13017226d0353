//! Local time for the rules that speak in it: quiet hours, "pause until tomorrow morning", and
//! the pause's end shown in the tooltip. The zone comes from the system (`TZ`,
//! `/etc/localtime`), read by jiff without unsafe code.

use std::time::Instant;

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use pushmail_core::i18n::I18n;
use pushmail_core::notify::policy::Now;

/// "Tomorrow morning" of the pause menu: 08:00 local time, when most people start reading mail.
pub const MORNING: (i8, i8) = (8, 0);

/// The present for the notification policy.
pub fn now() -> Now {
    let zoned = Zoned::now();
    now_at(&zoned)
}

fn now_at(zoned: &Zoned) -> Now {
    Now {
        mono: Instant::now(),
        unix: zoned.timestamp().as_second(),
        local: (
            u8::try_from(zoned.hour()).unwrap_or(0),
            u8::try_from(zoned.minute()).unwrap_or(0),
        ),
    }
}

/// Unix time of the next 08:00 local after `unix` in `tz` ("until tomorrow morning"; if it is
/// before 08:00 now, that is this morning's 08:00). Handles DST changes by asking the zone.
pub fn next_morning(unix: i64, tz: &TimeZone) -> Option<i64> {
    let now = Timestamp::from_second(unix).ok()?.to_zoned(tz.clone());
    let time = Time::new(MORNING.0, MORNING.1, 0, 0).ok()?;
    let today = now.date().to_datetime(time).to_zoned(tz.clone()).ok()?;
    let target = if today.timestamp() > now.timestamp() {
        today
    } else {
        now.date()
            .checked_add(1.day())
            .ok()?
            .to_datetime(time)
            .to_zoned(tz.clone())
            .ok()?
    };
    Some(target.timestamp().as_second())
}

/// [`next_morning`] in the system zone.
pub fn next_morning_local(unix: i64) -> Option<i64> {
    next_morning(unix, &TimeZone::system())
}

/// When a pause ends in local time, relative to today, for "paused until …". Written out in
/// the tray's language when shown ([`PauseEnd::text`]), so a language change rewrites it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseEnd {
    /// Today at this time.
    Today(DateTime),
    /// Tomorrow at this time.
    Tomorrow(DateTime),
    /// Later: shown with the date.
    Later(DateTime),
}

impl PauseEnd {
    /// The time ("07:00"), or the date and time for [`PauseEnd::Later`], as `i18n`'s language
    /// writes them.
    pub fn text(&self, i18n: &I18n) -> String {
        let hm = |at: &DateTime| {
            (
                u8::try_from(at.hour()).unwrap_or(0),
                u8::try_from(at.minute()).unwrap_or(0),
            )
        };
        match self {
            PauseEnd::Today(at) | PauseEnd::Tomorrow(at) => {
                let (hour, minute) = hm(at);
                i18n.time(hour, minute)
            }
            PauseEnd::Later(at) => {
                let (hour, minute) = hm(at);
                i18n.date_time(
                    i32::from(at.year()),
                    u8::try_from(at.month()).unwrap_or(1),
                    u8::try_from(at.day()).unwrap_or(1),
                    hour,
                    minute,
                )
            }
        }
    }
}

/// [`PauseEnd`] of `unix` in the system zone; `None` for a time out of range.
pub fn pause_end(unix: i64, now_unix: i64) -> Option<PauseEnd> {
    pause_end_in(unix, now_unix, &TimeZone::system())
}

fn pause_end_in(unix: i64, now_unix: i64, tz: &TimeZone) -> Option<PauseEnd> {
    let at = Timestamp::from_second(unix).ok()?.to_zoned(tz.clone());
    let now = Timestamp::from_second(now_unix).ok()?.to_zoned(tz.clone());
    let local = at.datetime();
    Some(if at.date() == now.date() {
        PauseEnd::Today(local)
    } else if now.date().checked_add(1.day()).ok() == Some(at.date()) {
        PauseEnd::Tomorrow(local)
    } else {
        PauseEnd::Later(local)
    })
}

/// Now as RFC 3339 UTC, for activity records.
pub fn rfc3339_now() -> String {
    Timestamp::now().to_string()
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn unix(s: &str, tz: &TimeZone) -> i64 {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        dt.to_zoned(tz.clone()).unwrap().timestamp().as_second()
    }

    #[test]
    fn tomorrow_morning_is_the_next_0800() {
        let tz = TimeZone::get("Europe/Rome").unwrap();
        assert_eq!(
            next_morning(unix("2026-03-10T22:15", &tz), &tz),
            Some(unix("2026-03-11T08:00", &tz))
        );
        // Early in the morning: today's 08:00.
        assert_eq!(
            next_morning(unix("2026-03-10T06:00", &tz), &tz),
            Some(unix("2026-03-10T08:00", &tz))
        );
        // Exactly 08:00 now: tomorrow's.
        assert_eq!(
            next_morning(unix("2026-03-10T08:00", &tz), &tz),
            Some(unix("2026-03-11T08:00", &tz))
        );
        // Over the spring-forward night (29 March 2026 in Rome) the pause is 23 h, not 24.
        let evening = unix("2026-03-28T08:00", &tz);
        let morning = next_morning(evening, &tz).unwrap();
        assert_eq!(morning - evening, 23 * 3600);
    }

    #[test]
    fn pause_ends_say_the_day_when_it_is_not_today() {
        let tz = TimeZone::get("Europe/Rome").unwrap();
        let now = unix("2026-03-10T22:15", &tz);
        let end = |s| pause_end_in(unix(s, &tz), now, &tz).unwrap();
        let (en, it, ar, tw) = (
            I18n::new("en"),
            I18n::new("it"),
            I18n::new("ar"),
            I18n::new("zh-TW"),
        );
        let today = end("2026-03-10T22:45");
        assert!(matches!(today, PauseEnd::Today(_)), "{today:?}");
        assert_eq!(today.text(&en), "22:45");
        let tomorrow = end("2026-03-11T08:00");
        assert!(matches!(tomorrow, PauseEnd::Tomorrow(_)), "{tomorrow:?}");
        assert_eq!(tomorrow.text(&ar), "08:00");
        let later = end("2026-03-14T09:30");
        assert!(matches!(later, PauseEnd::Later(_)), "{later:?}");
        assert_eq!(later.text(&en), "3/14/2026, 09:30");
        assert_eq!(later.text(&it), "14/03/2026, 09:30");
        assert_eq!(later.text(&tw), "2026/3/14 09:30");
        assert_eq!(later.text(&ar), "14\u{200F}/3\u{200F}/2026\u{060C} 09:30");
    }
}
