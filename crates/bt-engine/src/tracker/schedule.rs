//! When to announce next: the tracker's `interval` and `min interval`, exponential back-off
//! after failed rounds, and early announces when the torrent wants more peers.
//!
//! Pure: every method takes `now`, so tests drive time by hand. Tracker-supplied intervals are
//! clamped into `[interval_floor, interval_cap]` before use, so a hostile or broken tracker can
//! make us neither spin (interval 0) nor overflow an `Instant` (interval 2^32 s).

use std::time::{Duration, Instant};

/// Announce timing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// The first back-off after a round in which every tracker failed; doubled per failed
    /// round, so a dead tracker is not hammered but a blip costs little.
    pub backoff_base: Duration,
    /// The longest back-off: we still want to notice a tracker that comes back.
    pub backoff_cap: Duration,
    /// No tracker interval is honoured below this, against trackers that say 0.
    pub interval_floor: Duration,
    /// No tracker interval is honoured above this, so we report our stats and learn about new
    /// peers at least this often.
    pub interval_cap: Duration,
    /// The min interval assumed when a tracker names none; it spaces the early announces asked
    /// for by "want more peers" (libtorrent and qBittorrent use about five minutes).
    pub default_min_interval: Duration,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            backoff_base: Duration::from_secs(15),
            backoff_cap: Duration::from_secs(30 * 60),
            interval_floor: Duration::from_secs(30),
            interval_cap: Duration::from_secs(4 * 60 * 60),
            default_min_interval: Duration::from_secs(5 * 60),
        }
    }
}

/// The next announce time of one torrent, across all its trackers.
#[derive(Debug, Clone)]
pub struct AnnounceSchedule {
    config: ScheduleConfig,
    /// When the last successful announce happened; early announces are measured from it.
    last_success: Option<Instant>,
    /// The tracker's min interval (clamped), or the configured default.
    min_interval: Duration,
    /// Rounds failed in a row; sets the back-off exponent.
    failures: u32,
    /// When to announce next.
    next: Instant,
}

impl AnnounceSchedule {
    /// A schedule whose first announce is due at `now`.
    pub fn new(config: ScheduleConfig, now: Instant) -> Self {
        let min_interval = config.default_min_interval;
        Self {
            config,
            last_success: None,
            min_interval,
            failures: 0,
            next: now,
        }
    }

    /// When the next announce is due.
    pub fn next_announce(&self) -> Instant {
        self.next
    }

    /// How long from `now` until the next announce (zero if overdue).
    pub fn delay(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }

    /// Rounds failed in a row since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A tracker answered at `now` with `interval` and maybe `min_interval` (seconds): the
    /// back-off resets and the next announce is due after the interval (never before the min
    /// interval). Returns the new due time.
    pub fn on_success(
        &mut self,
        now: Instant,
        interval: u32,
        min_interval: Option<u32>,
    ) -> Instant {
        let interval = self.clamp(Duration::from_secs(interval.into()));
        self.min_interval = match min_interval {
            Some(secs) => self.clamp(Duration::from_secs(secs.into())),
            None => self.clamp(self.config.default_min_interval),
        };
        self.failures = 0;
        self.last_success = Some(now);
        self.next = later(now, interval.max(self.min_interval));
        self.next
    }

    /// Every tracker failed in the round that ended at `now`: the next round waits
    /// `backoff_base × 2^(failures − 1)`, at most `backoff_cap`, and never comes before the min
    /// interval since the last success. Returns the new due time.
    pub fn on_failure(&mut self, now: Instant) -> Instant {
        self.failures = self.failures.saturating_add(1);
        let doublings = (self.failures - 1).min(31);
        let backoff = self
            .config
            .backoff_base
            .saturating_mul(1 << doublings)
            .min(self.config.backoff_cap);
        self.next = later(now, backoff).max(self.earliest(now));
        self.next
    }

    /// The torrent wants more peers: the next announce moves earlier, to the end of the min
    /// interval since the last success (or `now` if that has passed). It never moves later,
    /// and never cuts a back-off short. Returns the new due time.
    pub fn want_more_peers(&mut self, now: Instant) -> Instant {
        if self.failures == 0 {
            self.next = self.next.min(self.earliest(now).max(now));
        }
        self.next
    }

    /// The first moment the tracker lets us announce again.
    fn earliest(&self, now: Instant) -> Instant {
        self.last_success
            .map_or(now, |at| later(at, self.min_interval))
    }

    fn clamp(&self, d: Duration) -> Duration {
        d.clamp(
            self.config.interval_floor,
            self.config.interval_cap.max(self.config.interval_floor),
        )
    }
}

/// `at + d`, or a day after `at` if a (misconfigured) huge `d` would overflow an `Instant`.
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(24 * 60 * 60)))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn config() -> ScheduleConfig {
        ScheduleConfig {
            backoff_base: 15 * S,
            backoff_cap: 1800 * S,
            interval_floor: 30 * S,
            interval_cap: 3600 * S,
            default_min_interval: 300 * S,
        }
    }

    #[test]
    fn first_announce_is_due_at_once() {
        let t0 = Instant::now();
        let s = AnnounceSchedule::new(config(), t0);
        assert_eq!(s.next_announce(), t0);
        assert_eq!(s.delay(t0 + S), Duration::ZERO);
    }

    #[test]
    fn success_waits_for_the_interval_but_never_less_than_min_interval() {
        let t0 = Instant::now();
        let mut s = AnnounceSchedule::new(config(), t0);
        assert_eq!(s.on_success(t0, 1800, Some(60)), t0 + 1800 * S);
        assert_eq!(s.on_success(t0, 100, Some(600)), t0 + 600 * S);
        // No min interval: the default one applies.
        assert_eq!(s.on_success(t0, 100, None), t0 + 300 * S);
    }

    #[test]
    fn hostile_intervals_are_clamped() {
        let t0 = Instant::now();
        let mut s = AnnounceSchedule::new(config(), t0);
        assert_eq!(s.on_success(t0, 0, Some(0)), t0 + 30 * S);
        assert_eq!(s.on_success(t0, u32::MAX, Some(u32::MAX)), t0 + 3600 * S);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        let t0 = Instant::now();
        let mut s = AnnounceSchedule::new(config(), t0);
        let delays: Vec<u64> = (0..10).map(|_| (s.on_failure(t0) - t0).as_secs()).collect();
        assert_eq!(delays, [15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
        for _ in 0..100 {
            s.on_failure(t0);
        }
        assert_eq!(s.next_announce(), t0 + 1800 * S);
        assert_eq!(s.on_success(t0, 900, None), t0 + 900 * S);
        assert_eq!(s.failures(), 0);
        assert_eq!(
            s.on_failure(t0),
            t0 + 300 * S,
            "back-off respects min interval"
        );
        assert_eq!(
            s.on_failure(t0 + 1000 * S),
            t0 + 1030 * S,
            "counter restarted"
        );
    }

    #[test]
    fn want_more_peers_announces_early_once_min_interval_passed() {
        let t0 = Instant::now();
        let mut s = AnnounceSchedule::new(config(), t0);
        s.on_success(t0, 1800, Some(120));
        // Too soon: the announce moves to the end of the min interval.
        assert_eq!(s.want_more_peers(t0 + 10 * S), t0 + 120 * S);
        // Past the min interval: now.
        assert_eq!(s.want_more_peers(t0 + 500 * S), t0 + 120 * S, "never later");
        let mut s = AnnounceSchedule::new(config(), t0);
        s.on_success(t0, 1800, Some(120));
        assert_eq!(s.want_more_peers(t0 + 500 * S), t0 + 500 * S);
    }

    #[test]
    fn want_more_peers_does_not_cut_a_back_off_short() {
        let t0 = Instant::now();
        let mut s = AnnounceSchedule::new(config(), t0);
        s.on_success(t0, 1800, Some(60));
        let retry = s.on_failure(t0 + 1800 * S);
        assert_eq!(s.want_more_peers(t0 + 1801 * S), retry);
    }
}
