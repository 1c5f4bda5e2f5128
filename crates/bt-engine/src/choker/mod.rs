//! Choking: which connected peers we upload to, decided as a pure algorithm.
//!
//! This module owns the *decision* only. It holds no sockets, no timers and no actor; it turns a
//! snapshot of the torrent's peers into the set of peers to unchoke, and says why for each peer.
//! The algorithm is the one from BEP 3 and Cohen's "Incentives Build Robustness in BitTorrent"
//! (2003), as mainline and libtorrent implement it: tit-for-tat over a few regular upload slots,
//! plus an optimistic unchoke that rotates so that new peers can prove themselves.
//!
//! # How an actor drives it
//! The `Choker` actor (one per torrent) owns a `Box<dyn ChokeStrategy>` and:
//! 1. every [`ChokeConfig::rechoke_interval`] (via `ctx.run_interval`) builds one [`ChokePeer`]
//!    per connected peer from its rate meters and flags, and calls
//!    [`ChokeStrategy::rechoke`] with the torrent's [`TorrentMode`] and `Instant::now()`;
//! 2. sends `Unchoke` to every peer in [`ChokeDecision::unchoked`] that is choked now, and
//!    `Choke` to every other peer that is unchoked now, then records the new `choked_by_us`
//!    flags so that the next snapshot reflects them.
//!
//! Strategies keep their own timer state (when the optimistic unchoke last rotated) and read time
//! only from the `now` argument, so the actor needs one timer, extra calls (say, when a peer
//! disconnects or becomes interested) never rotate the optimistic unchoke early, and tests can
//! drive time by hand.
//!
//! # Strategies
//! - [`TitForTat`]: the default, described above.
//! - [`UnchokeAll`] and [`RandomChoke`]: baselines for experiments that measure what
//!   tit-for-tat buys.
//! - [`FreeRider`]: unchokes nobody, for experiments with peers that upload nothing.
//!
//! A session picks one by name in its configuration (`choke.strategy`); an embedder can pass
//! its own through [`Strategies`](crate::Strategies) when adding a torrent.

mod baselines;
mod config;
mod strategy;
mod tit_for_tat;

#[cfg(test)]
pub(crate) mod test_support;

use std::time::{Duration, Instant};

pub use baselines::{FreeRider, RandomChoke, UnchokeAll};
pub use config::ChokeConfig;
pub use strategy::{ChokeDecision, ChokeReason, ChokeStrategy, UnchokeReason};
pub use tit_for_tat::TitForTat;

/// An opaque identifier for one connected peer, chosen by whoever drives the choker.
///
/// The choker never interprets it; it only compares and returns keys, so the actor can map them
/// back to its connections (a connection counter, say). `Ord` keeps decisions in a stable order,
/// which keeps seeded experiments reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerKey(pub u64);

/// Whether the torrent still downloads, which decides what "a good peer" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TorrentMode {
    /// We still want pieces: reward the peers that upload to us fastest (tit-for-tat).
    Leeching,
    /// We have everything: nobody can pay us back, so favour the peers that take our upload
    /// fastest, which spreads the data into the swarm quickest.
    Seeding,
}

/// What a strategy sees of one connected peer at the moment it decides.
///
/// A snapshot, rebuilt by the actor for every call, so the strategy never holds stale peer state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChokePeer {
    /// Identifies the peer in the decision; keys must be unique within one call.
    pub key: PeerKey,
    /// The peer told us it is interested: unchoking a peer that wants nothing wastes a slot.
    pub interested: bool,
    /// We choke the peer now; the optimistic unchoke prefers choked peers, since giving it to a
    /// peer that is already unchoked would show us nothing new.
    pub choked_by_us: bool,
    /// Bytes per second the peer sends us (averaged over about 20 s): the tit-for-tat ranking
    /// while leeching.
    pub download_rate: u64,
    /// Bytes per second we send the peer: the ranking while seeding.
    pub upload_rate: u64,
    /// When the connection was made: a young peer has had no chance to trade yet, so it is more
    /// likely to win the optimistic unchoke, and a peer is not snubbed before it had time to send.
    pub connected_at: Instant,
    /// When the peer last sent us a block: a peer silent for too long is snubbed while leeching.
    pub last_block_received: Option<Instant>,
}

impl ChokePeer {
    /// The rate that ranks this peer for a regular slot in `mode`.
    pub fn ranking_rate(&self, mode: TorrentMode) -> u64 {
        match mode {
            TorrentMode::Leeching => self.download_rate,
            TorrentMode::Seeding => self.upload_rate,
        }
    }

    /// Whether the peer has sent us no block for `snub_timeout` (counting from the connection if
    /// it never sent one). Only meaningful while leeching; a seed expects nothing back.
    pub fn is_snubbed(&self, mode: TorrentMode, snub_timeout: Duration, now: Instant) -> bool {
        if mode == TorrentMode::Seeding {
            return false;
        }
        let silent_since = self.last_block_received.unwrap_or(self.connected_at);
        now.saturating_duration_since(silent_since) >= snub_timeout
    }

    /// Whether the peer connected recently enough to get the new-peer weight in the optimistic
    /// draw.
    pub fn is_new(&self, new_peer_window: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.connected_at) < new_peer_window
    }
}
