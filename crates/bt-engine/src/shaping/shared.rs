//! [`SharedBucket`]: one [`TokenBucket`] used by many connections on many threads.
//!
//! A session-wide limit is one bucket that every connection of the session draws from, and
//! the connections run on several worker Arbiters (threads). The bucket sits behind a
//! `std::sync::Mutex`: each draw is a few arithmetic operations under the lock, once per
//! 16 KiB block, so the lock is held for nanoseconds and never across an `.await`. An actor
//! per limit would cost a message round trip per block instead.

use std::num::NonZeroU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::TokenBucket;

/// A [`TokenBucket`] shared by clones across threads.
#[derive(Debug, Clone)]
pub struct SharedBucket(Arc<Mutex<TokenBucket>>);

impl SharedBucket {
    /// A full shared bucket of [`TokenBucket::with_default_burst`].
    pub fn new(rate: NonZeroU64, now: Instant) -> Self {
        Self::from_bucket(TokenBucket::with_default_burst(rate, now))
    }

    /// Shares `bucket`.
    pub fn from_bucket(bucket: TokenBucket) -> Self {
        Self(Arc::new(Mutex::new(bucket)))
    }

    /// The bucket, locked. A panic while it was held cannot leave it inconsistent (every
    /// update is a plain assignment), so a poisoned lock is used as it is.
    pub fn lock(&self) -> MutexGuard<'_, TokenBucket> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`TokenBucket::try_take`] under the lock.
    pub fn try_take(&self, bytes: u64, now: Instant) -> Result<(), Duration> {
        self.lock().try_take(bytes, now)
    }

    /// The burst allowance, bytes.
    pub fn burst(&self) -> u64 {
        self.lock().burst()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads drawing greedily from one bucket together stay within its bound: the lock
    /// makes the check and the take one step, so two threads cannot both spend one credit.
    #[test]
    fn threads_sharing_a_bucket_stay_within_its_bound() {
        let rate = NonZeroU64::new(4 << 20).expect("non-zero");
        let t0 = Instant::now();
        let shared = SharedBucket::new(rate, t0);
        let burst = shared.burst();
        let block = 16_384u64;
        let run = Duration::from_millis(300);
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut sent = 0u64;
                    while t0.elapsed() < run {
                        match shared.try_take(block, Instant::now()) {
                            Ok(()) => sent += block,
                            Err(wait) => std::thread::sleep(wait),
                        }
                    }
                    sent
                })
            })
            .collect();
        let sent: u64 = workers.into_iter().map(|w| w.join().expect("worker")).sum();
        let elapsed = t0.elapsed().as_secs_f64();
        let ceiling = burst as f64 + rate.get() as f64 * elapsed + block as f64;
        assert!((sent as f64) <= ceiling, "{sent} bytes > {ceiling}");
        assert!(sent > burst, "the threads drew more than the first burst");
    }
}
