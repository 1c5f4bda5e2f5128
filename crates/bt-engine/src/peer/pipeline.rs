//! The request pipeline: our outstanding requests to one peer, their latency, and how many
//! more to send.
//!
//! # Sizing: the bandwidth-delay product
//! To keep a link busy, the requests outstanding must cover what the peer can send during one
//! request's round trip: `rate x latency` bytes. In blocks:
//!
//! ```text
//! target = clamp(ceil(gain * rate * base_latency / BLOCK_LEN), min_requests, max_requests)
//! wanted = target - outstanding
//! ```
//!
//! - `rate`: payload bytes per second from this peer over a short window
//!   ([`PeerConfig::pipeline_rate_window`], 2 s), so the target follows the link in seconds.
//! - `base_latency`: an EWMA (weight 1/4) of request-to-block times of *uncongested* requests
//!   only, those sent with fewer than `min_requests` others ahead of them. A request sent
//!   behind a deep queue waits for the queue too, and by Little's law `rate x that latency` is
//!   just the current depth again: the formula would never learn anything, and with any gain
//!   above 1 would grow to the maximum. Uncongested samples measure the round trip plus the
//!   peer's service time, which is what the depth must cover. They come from the first
//!   requests of a connection and again whenever the pipeline shrinks to the minimum, so a
//!   stale estimate heals itself.
//! - `gain` ([`PeerConfig::pipeline_gain`], 2): headroom for jitter, and the growth engine.
//!   While the pipeline is the bottleneck, rate = depth x block / latency, so the target is
//!   `gain x depth`: the depth doubles each time the rate window catches up (slow start). When
//!   the peer's upload is the bottleneck, the rate stops growing and the target settles at
//!   `gain x` the true bandwidth-delay product.
//! - Slow start: until a latency sample exists the target is
//!   [`PeerConfig::initial_requests`], and until that many blocks have arrived the target does
//!   not fall below it (the first burst measures the rate too briefly to trust).
//!
//! The raw request latency (EWMA weight 1/8 over every sample, as TCP's smoothed RTT) sets the
//! request timeout: `clamp(factor x latency, request_timeout_min, request_timeout_max)`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bt_proto::geometry::{BLOCK_LEN, BlockRef};

use super::{PeerConfig, RateMeter};

/// Weight of a new sample in the raw latency EWMA (TCP's SRTT uses 1/8).
const LATENCY_WEIGHT: f64 = 1.0 / 8.0;
/// Weight of a new sample in the base latency EWMA: samples are rarer, so each counts more.
const BASE_LATENCY_WEIGHT: f64 = 1.0 / 4.0;

/// When a request was sent, and how congested the pipeline was then.
#[derive(Debug, Clone, Copy)]
struct Sent {
    /// Send time: the start of the latency sample and of the timeout.
    at: Instant,
    /// Requests outstanding ahead of this one when it was sent.
    ahead: usize,
}

/// What a received block was to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Outstanding: a real answer.
    Requested,
    /// Cancelled, timed out or forgotten by us: the peer is not at fault, but we no longer
    /// wait for it.
    Late,
    /// Never requested (or forgotten too long ago to remember).
    Unrequested,
}

/// Our outstanding requests to one peer and the measurements that size them.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    /// Outstanding requests; a map because every received block looks one up.
    outstanding: HashMap<BlockRef, Sent>,
    /// Requests we stopped waiting for, newest last, so a block that still comes is not held
    /// against the peer; bounded by `2 x max_requests`.
    abandoned: VecDeque<BlockRef>,
    /// Raw request-to-block latency EWMA in seconds: sets the timeout.
    latency: Option<f64>,
    /// Uncongested latency EWMA in seconds: sets the depth.
    base_latency: Option<f64>,
    /// Blocks received as requested, to leave slow start.
    received: u64,
    /// Short-window download rate.
    rate: RateMeter,
}

impl Pipeline {
    /// An empty pipeline in slow start.
    pub(crate) fn new(config: &PeerConfig) -> Self {
        Self {
            outstanding: HashMap::new(),
            abandoned: VecDeque::new(),
            latency: None,
            base_latency: None,
            received: 0,
            rate: RateMeter::new(config.pipeline_rate_window),
        }
    }

    /// Outstanding request count.
    pub(crate) fn len(&self) -> usize {
        self.outstanding.len()
    }

    /// Whether nothing is outstanding.
    pub(crate) fn is_empty(&self) -> bool {
        self.outstanding.is_empty()
    }

    /// The outstanding requests, oldest first.
    pub(crate) fn blocks(&self) -> Vec<BlockRef> {
        let mut sent: Vec<(Instant, BlockRef)> =
            self.outstanding.iter().map(|(b, s)| (s.at, *b)).collect();
        sent.sort_unstable();
        sent.into_iter().map(|(_, block)| block).collect()
    }

    /// Records a request sent at `now`; `false` if it was already outstanding.
    pub(crate) fn insert(&mut self, block: BlockRef, now: Instant) -> bool {
        if self.outstanding.contains_key(&block) {
            return false;
        }
        self.abandoned.retain(|old| *old != block);
        let ahead = self.outstanding.len();
        self.outstanding.insert(block, Sent { at: now, ahead });
        true
    }

    /// Files a received block of `len` bytes and learns latency from it.
    pub(crate) fn arrive(&mut self, block: BlockRef, now: Instant, config: &PeerConfig) -> Arrival {
        self.rate.record(u64::from(block.len), now);
        let Some(sent) = self.outstanding.remove(&block) else {
            return match self.abandoned.iter().position(|old| *old == block) {
                Some(at) => {
                    self.abandoned.remove(at);
                    Arrival::Late
                }
                None => Arrival::Unrequested,
            };
        };
        self.received = self.received.saturating_add(1);
        let sample = now.saturating_duration_since(sent.at).as_secs_f64();
        self.latency = Some(ewma(self.latency, sample, LATENCY_WEIGHT));
        if sent.ahead < config.min_requests.max(1) {
            self.base_latency = Some(ewma(self.base_latency, sample, BASE_LATENCY_WEIGHT));
        }
        Arrival::Requested
    }

    /// Removes a request the peer answered with REJECT; `true` if it was outstanding.
    pub(crate) fn remove(&mut self, block: &BlockRef) -> bool {
        self.outstanding.remove(block).is_some()
    }

    /// Stops waiting for `block` (we cancelled it); `true` if it was outstanding.
    pub(crate) fn abandon(&mut self, block: BlockRef, config: &PeerConfig) -> bool {
        if self.outstanding.remove(&block).is_none() {
            return false;
        }
        self.abandoned.push_back(block);
        let cap = config.max_requests.saturating_mul(2).max(1);
        while self.abandoned.len() > cap {
            self.abandoned.pop_front();
        }
        true
    }

    /// Abandons every request, returning them oldest first.
    pub(crate) fn abandon_all(&mut self, config: &PeerConfig) -> Vec<BlockRef> {
        let blocks = self.blocks();
        for block in &blocks {
            self.abandon(*block, config);
        }
        blocks
    }

    /// Abandons the requests older than the timeout, returning them oldest first.
    pub(crate) fn abandon_timed_out(&mut self, now: Instant, config: &PeerConfig) -> Vec<BlockRef> {
        let timeout = self.timeout(config);
        let mut late: Vec<(Instant, BlockRef)> = self
            .outstanding
            .iter()
            .filter(|(_, sent)| now.saturating_duration_since(sent.at) >= timeout)
            .map(|(block, sent)| (sent.at, *block))
            .collect();
        late.sort_unstable();
        late.into_iter()
            .map(|(_, block)| block)
            .inspect(|block| {
                self.abandon(*block, config);
            })
            .collect()
    }

    /// The request timeout: a multiple of the mean latency, within the configured bounds.
    pub(crate) fn timeout(&self, config: &PeerConfig) -> Duration {
        let max = config.request_timeout_max;
        let min = config.request_timeout_min.min(max);
        self.latency
            .and_then(|secs| Duration::try_from_secs_f64(secs * config.request_timeout_factor).ok())
            .map_or(max, |timeout| timeout.clamp(min, max))
    }

    /// Mean request latency, once measured.
    pub(crate) fn latency(&self) -> Option<Duration> {
        self.latency
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
    }

    /// Uncongested request latency, once measured.
    pub(crate) fn base_latency(&self) -> Option<Duration> {
        self.base_latency
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
    }

    /// Requests that should be outstanding now; see the module docs for the formula.
    pub(crate) fn target(&self, now: Instant, config: &PeerConfig) -> usize {
        let min = config.min_requests.max(1);
        let max = config.max_requests.max(min);
        let initial = config.initial_requests.clamp(min, max);
        let Some(base) = self.base_latency else {
            return initial;
        };
        let blocks = config.pipeline_gain * self.rate.rate(now) * base / f64::from(BLOCK_LEN);
        // Float-to-int `as` saturates (NaN to 0), so odd configs cannot panic here.
        let blocks = if blocks.is_finite() {
            blocks.ceil() as usize
        } else {
            max
        };
        let in_slow_start = self.received < initial as u64;
        let blocks = if in_slow_start {
            blocks.max(initial)
        } else {
            blocks
        };
        blocks.clamp(min, max)
    }
}

/// One step of an exponentially weighted moving average; the first sample starts it.
fn ewma(old: Option<f64>, sample: f64, weight: f64) -> f64 {
    match old {
        Some(old) => old + weight * (sample - old),
        None => sample,
    }
}
