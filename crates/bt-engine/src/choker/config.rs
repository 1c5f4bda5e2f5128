//! The choker's tunables, with the defaults of BEP 3 and mainline.

use std::time::Duration;

/// How many peers to unchoke and how often to change them.
///
/// The defaults are mainline's; tests and experiments shrink the intervals instead of waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChokeConfig {
    /// Regular upload slots, filled by rate: few enough that each unchoked peer gets a useful
    /// share of our upload, enough to find good partners (mainline: 4 including the optimistic).
    pub unchoke_slots: usize,
    /// Optimistic upload slots: the way a new peer, with nothing to offer yet, gets its first
    /// pieces, and the way we discover peers better than our current partners.
    pub optimistic_slots: usize,
    /// How often the actor should call `rechoke`; long enough for TCP to reach full speed on a
    /// newly unchoked connection, so that rates compare fairly (Cohen 2003: 10 s).
    pub rechoke_interval: Duration,
    /// How long an optimistic unchoke lasts before it rotates: three rechoke periods, so the
    /// peer has time to start sending back and earn a regular slot (Cohen 2003: 30 s).
    pub optimistic_interval: Duration,
    /// Silence (no block received) after which a peer counts as snubbing us while we leech, and
    /// loses its regular slot (Cohen 2003: one minute).
    pub snub_timeout: Duration,
    /// A peer connected less than this long ago counts as new in the optimistic draw
    /// (mainline: three optimistic intervals).
    pub new_peer_window: Duration,
    /// How many times as likely a new peer is to win the optimistic draw as an old one: a new peer
    /// has no pieces to trade, so it needs the head start (mainline: 3).
    pub new_peer_weight: u32,
}

impl Default for ChokeConfig {
    fn default() -> Self {
        let optimistic_interval = Duration::from_secs(30);
        Self {
            unchoke_slots: 3,
            optimistic_slots: 1,
            rechoke_interval: Duration::from_secs(10),
            optimistic_interval,
            snub_timeout: Duration::from_secs(60),
            new_peer_window: optimistic_interval * 3,
            new_peer_weight: 3,
        }
    }
}
