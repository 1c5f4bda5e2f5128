//! Rate shaping: upload and download limits, per connection and per session, as token buckets.
//!
//! A limit is a [`TokenBucket`] (bytes per second with a burst). Each direction of a
//! connection has a [`Throttle`]: its own bucket when the connection has a per-peer limit
//! (`peer.upload_limit`, `peer.download_limit`) and the session's [`SharedBucket`] when the
//! session has one (`upload_limit`, `download_limit`); a transfer goes when both hold credit
//! and is charged to both. A limit of 0 means no bucket at all, so an unlimited connection
//! pays one branch per block and reads no clock.
//!
//! # Where the connection actor applies them
//! - **Upload**: before a requested block is read from disk (and then sent), the upload
//!   throttle is charged its length; without credit the block waits in the upload queue and
//!   the connection tries again when the throttle says credit is back. Bytes leave the socket
//!   at the limit, and the peer's requests queue up on our side (up to its request limit).
//! - **Download**: a REQUEST is sent only when the download throttle has credit, and is
//!   charged the block's length. A peer sends only what we request, so the payload we
//!   receive follows the limit and the peer sees the back-pressure as fewer requests; the
//!   socket is read as fast as ever (nothing waits in the kernel's buffers, no request times
//!   out because we did not read its answer).
//!
//! Only payload (PIECE data) is counted; protocol messages are a few bytes each.
//!
//! # Layout
//! - `bucket`: [`TokenBucket`], [`default_burst`].
//! - `shared`: [`SharedBucket`], a bucket behind a mutex for a session's connections.
//! - this module: [`Throttle`], [`SessionLimits`].

mod bucket;
mod shared;

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

pub use bucket::{TokenBucket, default_burst};
pub use shared::SharedBucket;

/// The session-wide limits, one shared bucket per limited direction; cloned into every
/// connection of the session.
#[derive(Debug, Clone, Default)]
pub struct SessionLimits {
    /// The session's upload limit, if any.
    pub upload: Option<SharedBucket>,
    /// The session's download limit, if any.
    pub download: Option<SharedBucket>,
}

impl SessionLimits {
    /// Buckets for `upload` and `download` bytes per second (0: unlimited), full at `now`.
    pub fn new(upload: u64, download: u64, now: Instant) -> Self {
        let bucket = |rate| NonZeroU64::new(rate).map(|rate| SharedBucket::new(rate, now));
        Self {
            upload: bucket(upload),
            download: bucket(download),
        }
    }
}

/// What limits one direction of one connection: its own bucket and the session's.
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    own: Option<TokenBucket>,
    session: Option<SharedBucket>,
}

impl Throttle {
    /// A throttle with a per-connection limit of `own_rate` bytes per second (0: none) and
    /// the session's bucket, if the session is limited.
    pub fn new(own_rate: u64, session: Option<SharedBucket>, now: Instant) -> Self {
        let own = NonZeroU64::new(own_rate).map(|rate| TokenBucket::with_default_burst(rate, now));
        Self { own, session }
    }

    /// No limit applies: every transfer may go at once.
    pub fn is_unlimited(&self) -> bool {
        self.own.is_none() && self.session.is_none()
    }

    /// Charges `bytes` to both buckets if both hold credit at `now`; otherwise charges
    /// nothing and returns how long to wait before trying again.
    pub fn try_take(&mut self, bytes: u64, now: Instant) -> Result<(), Duration> {
        if let Some(own) = &mut self.own {
            own.check(now)?;
        }
        if let Some(session) = &self.session {
            session.try_take(bytes, now)?;
        }
        if let Some(own) = &mut self.own {
            own.take(bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlimited_throttle_lets_everything_through() {
        let now = Instant::now();
        let mut throttle = Throttle::new(0, None, now);
        assert!(throttle.is_unlimited());
        for _ in 0..1_000 {
            assert_eq!(throttle.try_take(1 << 30, now), Ok(()));
        }
        let limits = SessionLimits::new(0, 0, now);
        assert!(limits.upload.is_none() && limits.download.is_none());
    }

    #[test]
    fn the_connection_limit_applies_without_a_session_limit() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(10_000, None, t0);
        let burst = default_burst(NonZeroU64::new(10_000).expect("non-zero"));
        let mut sent = 0;
        while throttle.try_take(1_024, t0).is_ok() {
            sent += 1_024;
        }
        assert_eq!(sent, burst, "the burst (a whole number of transfers)");
    }

    /// Two connections under one session limit share it: together they get what one alone
    /// would, and a connection waiting on its own bucket charges the session nothing.
    #[test]
    fn connections_share_the_session_limit() {
        let t0 = Instant::now();
        let limits = SessionLimits::new(0, 100_000, t0);
        let session = limits.download.clone().expect("a download limit");
        let burst = session.burst();
        let mut a = Throttle::new(0, limits.download.clone(), t0);
        let mut b = Throttle::new(0, limits.download.clone(), t0);
        let mut sent = 0u64;
        loop {
            let (ra, rb) = (a.try_take(1_024, t0), b.try_take(1_024, t0));
            sent += 1_024 * u64::from(ra.is_ok()) + 1_024 * u64::from(rb.is_ok());
            if ra.is_err() && rb.is_err() {
                break;
            }
        }
        assert_eq!(sent, burst);
        // A connection limited to 1 B/s, its own burst spent, waits without spending the
        // session's credit.
        let mut slow = Throttle::new(1, limits.download.clone(), t0);
        let later = t0 + Duration::from_secs(1);
        while slow.try_take(16_384, later).is_ok() {}
        let before = session.lock().available(later);
        assert!(slow.try_take(16_384, later).is_err());
        assert_eq!(session.lock().available(later), before);
    }
}
