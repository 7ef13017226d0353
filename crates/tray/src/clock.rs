//! Local time for the rules that speak in it: quiet hours, "pause until tomorrow morning", and
//! the pause's end shown in the tooltip. The zone comes from the system (`TZ`,
//! `/etc/localtime`), read by jiff without unsafe code.

use std::time::Instant;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
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

/// When a pause ends, relative to today, for "paused until …".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PauseEnd {
    /// Today at `HH:MM`.
    Today(String),
    /// Tomorrow at `HH:MM`.
    Tomorrow(String),
    /// Later: `YYYY-MM-DD HH:MM` (ISO, so no month or weekday names need translating).
    Later(String),
}

/// [`PauseEnd`] of `unix` in the system zone.
pub fn pause_end(unix: i64, now_unix: i64) -> PauseEnd {
    pause_end_in(unix, now_unix, &TimeZone::system())
}

fn pause_end_in(unix: i64, now_unix: i64, tz: &TimeZone) -> PauseEnd {
    let (Ok(at), Ok(now)) = (
        Timestamp::from_second(unix),
        Timestamp::from_second(now_unix),
    ) else {
        return PauseEnd::Later(String::new());
    };
    let (at, now) = (at.to_zoned(tz.clone()), now.to_zoned(tz.clone()));
    let time = at.strftime("%H:%M").to_string();
    if at.date() == now.date() {
        PauseEnd::Today(time)
    } else if now.date().checked_add(1.day()).ok() == Some(at.date()) {
        PauseEnd::Tomorrow(time)
    } else {
        PauseEnd::Later(at.strftime("%Y-%m-%d %H:%M").to_string())
    }
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
        let end = |s| pause_end_in(unix(s, &tz), now, &tz);
        assert_eq!(end("2026-03-10T22:45"), PauseEnd::Today("22:45".into()));
        assert_eq!(end("2026-03-11T08:00"), PauseEnd::Tomorrow("08:00".into()));
        assert_eq!(
            end("2026-03-14T09:30"),
            PauseEnd::Later("2026-03-14 09:30".into())
        );
    }
}
