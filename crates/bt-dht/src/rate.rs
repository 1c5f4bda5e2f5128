//! Limits on the queries a node serves: a token bucket per source IP, and one for everyone.
//!
//! A DHT node answers strangers, so one host could otherwise make it send a reply (and, for an
//! unknown node, a verification ping) for every datagram it forges. Queries over the limit are
//! dropped without a reply, as libtorrent does (`dht_block_ratelimit`, 5 a second per IP).
//! The table of per-IP buckets is bounded: idle entries (full buckets) are pruned, and past the
//! bound a new IP is held to the global bucket alone.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Rates of a [`RateLimiter`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// Queries per second served to one IP, on average.
    pub per_ip_per_sec: f64,
    /// How many queries one IP may send in a burst.
    pub per_ip_burst: f64,
    /// Queries per second served in all.
    pub global_per_sec: f64,
    /// IPs tracked at once.
    pub max_tracked_ips: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_ip_per_sec: 5.0,
            per_ip_burst: 20.0,
            global_per_sec: 500.0,
            max_tracked_ips: 4096,
        }
    }
}

/// A token bucket.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(capacity: f64, now: Instant) -> Self {
        Self {
            tokens: capacity,
            updated: now,
        }
    }

    /// Refills at `rate` up to `capacity`, then takes one token if there is one.
    fn take(&mut self, rate: f64, capacity: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether it has refilled completely by `now`.
    fn is_idle(&self, rate: f64, capacity: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * rate >= capacity
    }
}

/// Decides which incoming queries are served.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    global: Bucket,
    per_ip: HashMap<IpAddr, Bucket>,
}

impl RateLimiter {
    /// A limiter with every bucket full.
    pub fn new(limits: RateLimits, now: Instant) -> Self {
        Self {
            limits,
            // One second's worth of global burst.
            global: Bucket::full(limits.global_per_sec.max(1.0), now),
            per_ip: HashMap::new(),
        }
    }

    /// Whether a query from `ip` may be served now (and counts it if so).
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        let RateLimits {
            per_ip_per_sec,
            per_ip_burst,
            global_per_sec,
            max_tracked_ips,
        } = self.limits;
        if self.per_ip.len() >= max_tracked_ips && !self.per_ip.contains_key(&ip) {
            self.prune(now);
        }
        let ip_ok = if self.per_ip.len() < max_tracked_ips || self.per_ip.contains_key(&ip) {
            self.per_ip
                .entry(ip)
                .or_insert_with(|| Bucket::full(per_ip_burst, now))
                .take(per_ip_per_sec, per_ip_burst, now)
        } else {
            true
        };
        ip_ok
            && self
                .global
                .take(global_per_sec, global_per_sec.max(1.0), now)
    }

    /// Forgets the IPs whose buckets have refilled: they are as if never seen.
    pub fn prune(&mut self, now: Instant) {
        let RateLimits {
            per_ip_per_sec,
            per_ip_burst,
            ..
        } = self.limits;
        self.per_ip
            .retain(|_, bucket| !bucket.is_idle(per_ip_per_sec, per_ip_burst, now));
    }

    /// IPs tracked now.
    pub fn tracked_ips(&self) -> usize {
        self.per_ip.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn one_ip_gets_its_burst_then_its_rate() {
        let now = Instant::now();
        let mut limiter = RateLimiter::new(RateLimits::default(), now);
        let served = (0..100).filter(|_| limiter.allow(ip(1), now)).count();
        assert_eq!(served, 20);
        // Another IP is not affected.
        assert!(limiter.allow(ip(2), now));
        // A second later, five more.
        let later = now + Duration::from_secs(1);
        let served = (0..100).filter(|_| limiter.allow(ip(1), later)).count();
        assert_eq!(served, 5);
    }

    #[test]
    fn the_global_limit_holds_across_ips() {
        let now = Instant::now();
        let limits = RateLimits {
            global_per_sec: 10.0,
            ..RateLimits::default()
        };
        let mut limiter = RateLimiter::new(limits, now);
        let served = (0..50u8).filter(|n| limiter.allow(ip(*n), now)).count();
        assert_eq!(served, 10);
    }

    #[test]
    fn the_ip_table_is_bounded_and_pruned() {
        let now = Instant::now();
        let limits = RateLimits {
            max_tracked_ips: 4,
            ..RateLimits::default()
        };
        let mut limiter = RateLimiter::new(limits, now);
        for n in 0..10 {
            assert!(limiter.allow(ip(n), now));
        }
        assert_eq!(limiter.tracked_ips(), 4);
        // Ten seconds on, every bucket has refilled and is forgotten.
        limiter.prune(now + Duration::from_secs(10));
        assert_eq!(limiter.tracked_ips(), 0);
    }
}
