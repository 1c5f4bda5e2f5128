//! [`RateMeter`]: bytes per second over a sliding window, with time passed in.
//!
//! The window is cut into equal buckets in a ring; recording adds to the bucket of `now`, and
//! the rate is the sum of the buckets still inside the window divided by the time they cover.
//! Buckets are aligned to the first record, so the meter is exact for tests that inject
//! `Instant`s and costs O(1) per record (O(buckets) when time jumps ahead).
//!
//! Until a whole window has passed since the first record, the rate divides by the time since
//! that record (at least one bucket), not by the full window, so a new connection's rate is not
//! understated for its first 20 seconds.

use std::time::{Duration, Instant};

/// Buckets per window: 5 % resolution, small enough to stay in one cache line or two.
const BUCKETS: usize = 20;

/// Bytes per second over a sliding window.
#[derive(Debug, Clone)]
pub struct RateMeter {
    /// Length of one bucket: the window divided by [`BUCKETS`], at least 1 ms.
    bucket_len: Duration,
    /// Bytes per bucket, indexed by absolute bucket number modulo [`BUCKETS`].
    buckets: [u64; BUCKETS],
    /// Time of the first record: bucket 0 starts here. `None` until something is recorded.
    origin: Option<Instant>,
    /// Absolute number of the newest bucket written; older ones within the window still count.
    head: u64,
}

impl RateMeter {
    /// A meter averaging over `window` (cut into 20 buckets).
    pub fn new(window: Duration) -> Self {
        let bucket_len = (window / BUCKETS as u32).max(Duration::from_millis(1));
        Self {
            bucket_len,
            buckets: [0; BUCKETS],
            origin: None,
            head: 0,
        }
    }

    /// The averaging window (a whole number of buckets).
    pub fn window(&self) -> Duration {
        self.bucket_len * BUCKETS as u32
    }

    /// Counts `bytes` as transferred at `now`. A `now` older than the window is ignored, one
    /// before the first record counts in the first bucket.
    pub fn record(&mut self, bytes: u64, now: Instant) {
        let origin = *self.origin.get_or_insert(now);
        let index = self.bucket_index(origin, now);
        self.advance(index);
        if index.saturating_add(BUCKETS as u64) <= self.head {
            return;
        }
        let slot = &mut self.buckets[Self::slot(index)];
        *slot = slot.saturating_add(bytes);
    }

    /// Bytes per second over the window ending at `now`.
    pub fn rate(&self, now: Instant) -> f64 {
        let Some(origin) = self.origin else {
            return 0.0;
        };
        let now_index = self.bucket_index(origin, now);
        let oldest = now_index.saturating_sub(BUCKETS as u64 - 1);
        let bytes: u64 = (oldest..=now_index.min(self.head))
            .map(|index| self.buckets[Self::slot(index)])
            .sum();
        let covered = now
            .saturating_duration_since(origin)
            .clamp(self.bucket_len, self.window());
        bytes as f64 / covered.as_secs_f64()
    }

    /// [`rate`](Self::rate) rounded down to whole bytes per second, as the choker ranks peers.
    pub fn rate_u64(&self, now: Instant) -> u64 {
        // Float-to-int `as` saturates and maps NaN to 0, so this cannot panic or wrap.
        self.rate(now) as u64
    }

    /// Moves the head to `index`, clearing the buckets that fall out of the window.
    fn advance(&mut self, index: u64) {
        if index <= self.head {
            return;
        }
        let stale = index - self.head;
        if stale >= BUCKETS as u64 {
            self.buckets = [0; BUCKETS];
        } else {
            for skipped in self.head + 1..=index {
                self.buckets[Self::slot(skipped)] = 0;
            }
        }
        self.head = index;
    }

    /// The absolute bucket number of `now`.
    fn bucket_index(&self, origin: Instant, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(origin).as_nanos();
        let index = elapsed / self.bucket_len.as_nanos().max(1);
        u64::try_from(index).unwrap_or(u64::MAX)
    }

    /// The ring slot of an absolute bucket number.
    fn slot(index: u64) -> usize {
        // The remainder is below BUCKETS, so the cast is lossless.
        (index % BUCKETS as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn empty_meter_reads_zero() {
        let meter = RateMeter::new(secs(20.0));
        assert_eq!(meter.rate(Instant::now()), 0.0);
    }

    #[test]
    fn steady_stream_reads_its_rate() {
        let start = Instant::now();
        let mut meter = RateMeter::new(secs(20.0));
        for second in 0..40 {
            meter.record(1000, start + secs(f64::from(second)));
        }
        // The last 20 buckets hold 20 records over a full 20 s window.
        let rate = meter.rate(start + secs(39.5));
        assert!((rate - 1000.0).abs() < 1e-9, "{rate}");
    }

    #[test]
    fn young_meter_divides_by_elapsed_time_not_the_window() {
        let start = Instant::now();
        let mut meter = RateMeter::new(secs(20.0));
        meter.record(4000, start);
        meter.record(4000, start + secs(1.0));
        assert!((meter.rate(start + secs(2.0)) - 4000.0).abs() < 1e-9);
        // Less than one bucket elapsed: divide by one bucket (1 s).
        let mut fresh = RateMeter::new(secs(20.0));
        fresh.record(500, start);
        assert!((fresh.rate(start) - 500.0).abs() < 1e-9);
    }

    #[test]
    fn old_bytes_slide_out_of_the_window() {
        let start = Instant::now();
        let mut meter = RateMeter::new(secs(20.0));
        meter.record(20_000, start);
        assert!((meter.rate(start + secs(10.0)) - 2000.0).abs() < 1e-9);
        assert_eq!(meter.rate(start + secs(20.0)), 0.0);
        // A long jump clears the whole ring.
        meter.record(100, start + secs(1000.0));
        assert!((meter.rate(start + secs(1000.0)) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn records_out_of_order_within_window_count() {
        let start = Instant::now();
        let mut meter = RateMeter::new(secs(20.0));
        meter.record(1000, start);
        meter.record(1000, start + secs(5.0));
        meter.record(1000, start + secs(3.0));
        assert!((meter.rate(start + secs(10.0)) - 300.0).abs() < 1e-9);
        // Before the first record: counted in the first bucket.
        meter.record(1000, start - secs(1.0));
        assert!((meter.rate(start + secs(10.0)) - 400.0).abs() < 1e-9);
        // Older than the window: ignored.
        meter.record(1_000_000, start + secs(40.0));
        meter.record(1_000_000, start + secs(10.0));
        assert!((meter.rate(start + secs(40.0)) - 50_000.0).abs() < 1e-9);
    }

    #[test]
    fn short_window_has_fine_buckets() {
        let start = Instant::now();
        let mut meter = RateMeter::new(secs(2.0));
        assert_eq!(meter.window(), secs(2.0));
        meter.record(16_384, start);
        meter.record(16_384, start + secs(0.05));
        // Less than one 100 ms bucket elapsed: divide by the bucket.
        assert!((meter.rate(start + secs(0.05)) - 327_680.0).abs() < 1e-6);
        assert_eq!(meter.rate_u64(start + secs(0.05)), 327_680);
    }
}
