//! Reconnect pacing: jittered exponential backoff, plus a cap on *successful* logins per minute.
//!
//! Backoff alone is not enough: a server that accepts LOGIN and then drops the connection resets
//! the backoff every time and would be hammered in a loop. The login cap bounds that case.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Jittered exponential backoff between `min` and `max`.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// The wait before the next attempt; `jitter` in [0, 1) spreads clients that failed together
    /// (a server restart) so they do not all come back in the same second.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let exp = self
            .min
            .saturating_mul(1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX));
        let base = exp.min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        // Between half and the whole of the base: never below half of `min`, never above `max`.
        let jitter = jitter.clamp(0.0, 1.0);
        base.mul_f64(0.5 + 0.5 * jitter).max(self.min / 2)
    }

    /// After a session that worked: the next failure starts again from `min`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// At most `per_minute` successful logins in any sliding minute.
#[derive(Clone, Debug)]
pub struct LoginLimiter {
    per_minute: u32,
    recent: VecDeque<Instant>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        LoginLimiter {
            per_minute: per_minute.max(1),
            recent: VecDeque::new(),
        }
    }

    /// How long to wait before a login is allowed at `now`.
    pub fn wait(&mut self, now: Instant) -> Duration {
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.recent.pop_front();
        }
        if self.recent.len() < self.per_minute as usize {
            return Duration::ZERO;
        }
        self.recent
            .front()
            .map(|t| Duration::from_secs(60).saturating_sub(now.duration_since(*t)))
            .unwrap_or_default()
    }

    pub fn record(&mut self, now: Instant) {
        self.recent.push_back(now);
    }
}

/// A session that lasted this long counts as "good": backoff starts over after it.
pub const GOOD_SESSION: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grows_to_max_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let delays: Vec<u64> = (0..12).map(|_| b.next_delay(0.999_999).as_secs()).collect();
        assert_eq!(&delays[..9], &[0, 1, 3, 7, 15, 31, 63, 127, 255]);
        assert_eq!(delays[11], 299);
        b.reset();
        assert!(b.next_delay(0.0) <= Duration::from_secs(1));
    }

    proptest! {
        #[test]
        fn delay_always_within_bounds(min in 1u64..100, extra in 0u64..1000, jitters in proptest::collection::vec(0.0f64..1.0, 1..40)) {
            let (min, max) = (Duration::from_millis(min * 10), Duration::from_millis(min * 10 + extra * 10));
            let mut b = Backoff::new(min, max);
            for j in jitters {
                let d = b.next_delay(j);
                prop_assert!(d >= min / 2 && d <= max, "{d:?} not in [{:?}, {max:?}]", min / 2);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn login_cap_holds_over_a_sliding_minute() {
        let mut l = LoginLimiter::new(3);
        let start = Instant::now();
        let mut logins = Vec::new();
        // Try to log in as fast as allowed for three minutes of paused time.
        while Instant::now().duration_since(start) < Duration::from_secs(180) {
            let w = l.wait(Instant::now());
            if w > Duration::ZERO {
                tokio::time::sleep(w).await;
                continue;
            }
            l.record(Instant::now());
            logins.push(Instant::now());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for (i, t) in logins.iter().enumerate() {
            let in_window = logins[i..]
                .iter()
                .filter(|u| u.duration_since(*t) < Duration::from_secs(60))
                .count();
            assert!(in_window <= 3, "{in_window} logins within a minute");
        }
        assert_eq!(logins.len(), 9);
    }
}
