//! [`TokenBucket`]: a rate in bytes per second with a burst allowance, time passed in.
//!
//! The bucket fills at `rate` bytes per second up to `burst` bytes. A transfer may start while
//! the bucket holds any credit at all, and takes its whole size, possibly driving the bucket
//! into debt; the next transfer waits until the debt is repaid. So a transfer of any size
//! (a 16 KiB block under a 1 KiB/s limit) goes through, and over any interval of length `t`
//! at most `burst + rate × t` bytes start, plus the one transfer that overdrew the bucket.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use bt_proto::geometry::BLOCK_LEN;

/// Bytes per second with a burst allowance; see the module docs.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// Bytes added per second.
    rate: NonZeroU64,
    /// The most credit the bucket holds: what may go at once after an idle spell.
    burst: u64,
    /// Credit in bytes; negative while a transfer that overdrew it is being repaid.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` bytes filling at `rate` bytes per second.
    pub fn new(rate: NonZeroU64, burst: u64, now: Instant) -> Self {
        Self {
            rate,
            burst,
            tokens: burst as f64,
            updated: now,
        }
    }

    /// A full bucket filling at `rate` with [`default_burst`]`(rate)`.
    pub fn with_default_burst(rate: NonZeroU64, now: Instant) -> Self {
        Self::new(rate, default_burst(rate), now)
    }

    /// The rate, bytes per second.
    pub fn rate(&self) -> NonZeroU64 {
        self.rate
    }

    /// The burst allowance, bytes.
    pub fn burst(&self) -> u64 {
        self.burst
    }

    /// The credit at `now` (negative while in debt), after refilling.
    pub fn available(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// Takes `bytes` if the bucket holds any credit at `now` (possibly leaving it in debt);
    /// otherwise takes nothing and says how long to wait until it holds credit again.
    pub fn try_take(&mut self, bytes: u64, now: Instant) -> Result<(), Duration> {
        self.check(now)?;
        self.take(bytes);
        Ok(())
    }

    /// `Ok` if the bucket holds credit at `now`, else the wait until it does.
    pub fn check(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens > 0.0 {
            return Ok(());
        }
        // Until the debt is repaid and one byte more: a wait that ends exactly at zero
        // would find no credit.
        let seconds = (1.0 - self.tokens) / self.rate.get() as f64;
        Err(Duration::from_secs_f64(seconds))
    }

    /// Takes `bytes` whatever the credit (after a successful [`check`](Self::check)).
    pub fn take(&mut self, bytes: u64) {
        self.tokens -= bytes as f64;
    }

    /// Adds the credit earned since the last update, up to the burst. A `now` earlier than
    /// the last update (another thread's clock reading, taken before ours) adds nothing.
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated);
        if elapsed.is_zero() {
            return;
        }
        self.updated = now;
        let earned = elapsed.as_secs_f64() * self.rate.get() as f64;
        self.tokens = (self.tokens + earned).min(self.burst as f64);
    }
}

/// The burst a limit of `rate` bytes per second gets: a tenth of a second of traffic, and at
/// least two blocks, so a slow limit still lets a block through without a stall per block.
pub fn default_burst(rate: NonZeroU64) -> u64 {
    (rate.get() / 10).max(2 * u64::from(BLOCK_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(n: u64) -> NonZeroU64 {
        NonZeroU64::new(n).expect("non-zero rate")
    }

    fn after(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn starts_full_and_lets_the_burst_through_at_once() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(rate(1_000), 3_000, t0);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(1_000, t0), Ok(()));
        }
        assert!(bucket.try_take(1, t0).is_err(), "the burst is spent");
    }

    #[test]
    fn refills_at_the_rate_and_says_how_long_to_wait() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(rate(1_000), 1_000, t0);
        bucket.try_take(1_000, t0).expect("full bucket");
        let wait = bucket.try_take(500, t0).expect_err("empty");
        // One byte of credit takes a millisecond at 1000 B/s.
        assert!(
            wait >= Duration::from_micros(900) && wait <= Duration::from_millis(2),
            "{wait:?}"
        );
        assert_eq!(bucket.try_take(500, after(t0, 2)), Ok(()));
        assert!(bucket.available(after(t0, 2)) < 0.0, "overdrawn");
        // In debt by about 498 bytes: about half a second until credit returns.
        let wait = bucket.check(after(t0, 2)).expect_err("in debt");
        assert!(wait >= Duration::from_millis(490) && wait <= Duration::from_millis(510));
        assert_eq!(bucket.check(after(t0, 2) + wait), Ok(()));
    }

    #[test]
    fn a_transfer_larger_than_the_burst_goes_and_is_repaid() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(rate(1_024), 100, t0);
        bucket
            .try_take(16_384, t0)
            .expect("any credit lets a block through");
        let wait = bucket.check(t0).expect_err("16 KiB of debt");
        assert!(wait >= Duration::from_millis(15_900), "{wait:?}");
        assert!(wait <= Duration::from_millis(16_100), "{wait:?}");
    }

    #[test]
    fn credit_never_exceeds_the_burst() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(rate(1_000_000), 5_000, t0);
        assert_eq!(bucket.available(after(t0, 60_000)), 5_000.0);
    }

    #[test]
    fn a_clock_reading_from_the_past_adds_nothing() {
        let t0 = Instant::now();
        let later = after(t0, 1_000);
        let mut bucket = TokenBucket::new(rate(1_000), 1_000, later);
        bucket.take(1_000);
        assert_eq!(bucket.available(t0), 0.0);
        assert_eq!(bucket.available(later), 0.0);
    }

    /// The bound the module docs promise: over a long run of greedy takers, what started is
    /// at most burst + rate × elapsed + one transfer, and at least rate × elapsed minus one
    /// transfer (the bucket never sits on credit while someone waits).
    #[test]
    fn greedy_transfers_follow_the_rate() {
        let t0 = Instant::now();
        let (r, burst, size) = (100_000, 10_000, 16_384);
        let mut bucket = TokenBucket::new(rate(r), burst, t0);
        let mut now = t0;
        let mut sent = 0u64;
        while now < after(t0, 10_000) {
            match bucket.try_take(size, now) {
                Ok(()) => sent += size,
                Err(wait) => now += wait,
            }
        }
        let elapsed = now.duration_since(t0).as_secs_f64();
        let ceiling = burst as f64 + r as f64 * elapsed + size as f64;
        let floor = r as f64 * elapsed - size as f64;
        assert!((sent as f64) <= ceiling, "{sent} > {ceiling}");
        assert!((sent as f64) >= floor, "{sent} < {floor}");
    }

    #[test]
    fn the_default_burst_is_a_tenth_of_a_second_and_at_least_two_blocks() {
        assert_eq!(default_burst(rate(10 << 20)), (10 << 20) / 10);
        assert_eq!(default_burst(rate(1)), 32 * 1024);
    }
}
