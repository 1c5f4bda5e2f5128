//! [`PeerConfig`]: the limits and timeouts of one peer connection.

use std::time::Duration;

use bt_proto::geometry::BLOCK_LEN;

/// Limits, timeouts and pipeline tuning for one connection.
///
/// The defaults follow BEP 3 and common client practice; tests shrink the durations instead of
/// waiting.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerConfig {
    /// Largest REQUEST we serve: BEP 3 says clients close connections asking for more than
    /// 16 KiB, and every client asks for exactly that.
    pub max_request_len: u32,
    /// How many of the peer's requests may wait in our queue before we call it a flood and
    /// disconnect: libtorrent keeps up to 500 requests outstanding on a fast link
    /// (`max_out_request_queue`) and tolerates 2000 queued from a peer
    /// (`max_allowed_in_request_queue`), so we tolerate as many. A queued request costs a few
    /// bytes (the block is read only when it is served), so this bounds memory well.
    pub max_peer_requests: usize,
    /// Messages with unknown ids we ignore before giving up on the peer: new extensions may
    /// send a few, an endless stream is garbage.
    pub max_unknown_messages: u32,
    /// Misbehaviour points (such as blocks we never asked for) after which we disconnect.
    pub misbehaviour_limit: u32,
    /// Fewest requests we keep outstanding once the pipeline is sized: even a slow peer must
    /// never wait a round trip for its next request.
    pub min_requests: usize,
    /// Most requests we keep outstanding: bounds the blocks one peer can hold hostage and our
    /// bookkeeping (512 x 16 KiB = 8 MiB in flight).
    pub max_requests: usize,
    /// Requests outstanding while the pipeline is in slow start (before the first blocks have
    /// come back and measured the link).
    pub initial_requests: usize,
    /// Multiplier on the bandwidth-delay product: headroom against rate and latency jitter,
    /// and the factor by which the pipeline grows per rate window while it, not the peer, is
    /// the bottleneck (as BBR's congestion-window gain of 2).
    pub pipeline_gain: f64,
    /// Window of the short-term download rate that sizes the pipeline: short, so the pipeline
    /// follows the link within seconds.
    pub pipeline_rate_window: Duration,
    /// Window of the download and upload rate meters the choker ranks peers by (mainline: 20 s).
    pub rate_window: Duration,
    /// Shortest request timeout: a block late by less than this is not worth re-requesting
    /// elsewhere.
    pub request_timeout_min: Duration,
    /// Longest request timeout, and the timeout before any latency has been measured.
    pub request_timeout_max: Duration,
    /// A request times out after this many times the measured mean request latency.
    pub request_timeout_factor: f64,
    /// We send a keep-alive after sending nothing for this long: peers drop connections silent
    /// for two minutes (BEP 3), so stay well inside that.
    pub keepalive_interval: Duration,
    /// We drop a peer that sent nothing at all for this long: longer than BEP 3's two minutes,
    /// to forgive a keep-alive sent late.
    pub silence_timeout: Duration,
    /// With requests outstanding and no block for this long, the peer is snubbing us and the
    /// choker stops rewarding it (Cohen 2003: one minute).
    pub snub_timeout: Duration,
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self {
            max_request_len: BLOCK_LEN,
            max_peer_requests: 2000,
            max_unknown_messages: 64,
            misbehaviour_limit: 100,
            min_requests: 4,
            max_requests: 512,
            initial_requests: 16,
            pipeline_gain: 2.0,
            pipeline_rate_window: Duration::from_secs(2),
            rate_window: Duration::from_secs(20),
            request_timeout_min: Duration::from_secs(10),
            request_timeout_max: Duration::from_secs(60),
            request_timeout_factor: 4.0,
            keepalive_interval: Duration::from_secs(90),
            silence_timeout: Duration::from_secs(180),
            snub_timeout: Duration::from_secs(60),
        }
    }
}
