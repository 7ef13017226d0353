//! Token buckets, one per key (a token's hash, a client address): each holds up to a minute's
//! worth of requests and refills continuously, so a client may burst a minute's quota and then
//! goes at the steady rate. Per process: with N processes behind a balancer a client gets up to
//! N times the rate, which is fine for a limit whose job is to stop floods and token guessing.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Above this many keys, buckets that have refilled completely are forgotten (a full bucket
/// is the same as no bucket), so a flood of addresses cannot grow the map without end.
const PRUNE_ABOVE: usize = 10_000;

/// A token bucket per key, `per_minute` requests per minute each.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute per key; 0 means no limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says how long until one is available.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    /// How long until `key`'s bucket has a request again, if it is empty now (nothing
    /// taken).
    pub fn empty(&self, key: &str) -> Option<Duration> {
        self.empty_at(key, Instant::now())
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    fn per_sec(&self) -> f64 {
        self.capacity() / 60.0
    }

    fn refilled(&self, b: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        Bucket {
            tokens: (b.tokens + elapsed * self.per_sec()).min(self.capacity()),
            at: now,
        }
    }

    fn wait(&self, b: Bucket) -> Duration {
        Duration::from_secs_f64(((1.0 - b.tokens) / self.per_sec()).max(0.0))
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > PRUNE_ABOVE {
            let cap = self.capacity();
            map.retain(|_, b| self.refilled(*b, now).tokens < cap);
        }
        let full = Bucket {
            tokens: self.capacity(),
            at: now,
        };
        let b = self.refilled(*map.get(key).unwrap_or(&full), now);
        if b.tokens >= 1.0 {
            map.insert(
                key.to_owned(),
                Bucket {
                    tokens: b.tokens - 1.0,
                    at: now,
                },
            );
            Ok(())
        } else {
            map.insert(key.to_owned(), b);
            Err(self.wait(b))
        }
    }

    fn empty_at(&self, key: &str, now: Instant) -> Option<Duration> {
        if self.per_minute == 0 {
            return None;
        }
        let map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let b = self.refilled(*map.get(key)?, now);
        (b.tokens < 1.0).then(|| self.wait(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_burst_then_the_steady_rate() {
        let r = RateLimiter::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(r.take_at("a", t0).is_ok());
        }
        let wait = r.take_at("a", t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert!(r.empty_at("a", t0).is_some());
        // Another key is not affected.
        assert!(r.take_at("b", t0).is_ok());
        assert!(r.empty_at("b", t0).is_none());
        // One second later, one more request.
        let t1 = t0 + Duration::from_secs(1);
        assert!(r.take_at("a", t1).is_ok());
        assert!(r.take_at("a", t1).is_err());
    }

    #[test]
    fn zero_means_no_limit() {
        let r = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(r.take("a").is_ok());
        }
        assert!(r.empty("a").is_none());
    }

    #[test]
    fn full_buckets_are_forgotten_when_many() {
        let r = RateLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..=PRUNE_ABOVE {
            r.take_at(&format!("k{i}"), t0).unwrap();
        }
        let later = t0 + Duration::from_secs(61);
        r.take_at("new", later).unwrap();
        let n = r.buckets.lock().unwrap().len();
        assert_eq!(n, 1);
    }
}
