//! The interface every choking strategy implements, and the decision it returns.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Instant;

use super::{ChokePeer, PeerKey, TorrentMode};

/// A choking algorithm: given the connected peers, decide whom to upload to.
///
/// Implementations are plain structs, driven by the `Choker` actor on a timer (see the module
/// docs). They may keep state between calls (the optimistic unchoke and its timer) but must read
/// the time only from `now`, so that tests and experiments control the clock.
pub trait ChokeStrategy: Send + fmt::Debug {
    /// Decide which of `peers` to unchoke; every peer not unchoked in the decision is choked.
    ///
    /// `peers` holds every connected peer once; a peer absent from it has disconnected.
    fn rechoke(&mut self, peers: &[ChokePeer], mode: TorrentMode, now: Instant) -> ChokeDecision;

    /// A short, stable name for logs and experiment tables.
    fn name(&self) -> &'static str;
}

/// The outcome of one rechoke: who gets a regular slot, who the optimistic one, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChokeDecision {
    /// Peers unchoked for their rate (or by a baseline strategy's rule). Disjoint from
    /// `optimistic`, so experiments can count the two kinds of slot apart.
    pub regular: BTreeSet<PeerKey>,
    /// Peers unchoked optimistically, whatever their rate.
    pub optimistic: BTreeSet<PeerKey>,
    /// One entry per input peer, in input order: why it is unchoked or choked, so an experiment
    /// can print the reasoning behind every decision.
    pub reasons: Vec<(PeerKey, UnchokeReason)>,
}

impl ChokeDecision {
    /// Every peer to unchoke (regular and optimistic); every other peer is to be choked.
    pub fn unchoked(&self) -> BTreeSet<PeerKey> {
        self.regular.union(&self.optimistic).copied().collect()
    }

    /// Whether `key` should be unchoked after this decision.
    pub fn is_unchoked(&self, key: PeerKey) -> bool {
        self.regular.contains(&key) || self.optimistic.contains(&key)
    }

    /// Why `key` got its verdict, if it was among the input peers.
    pub fn reason_for(&self, key: PeerKey) -> Option<&UnchokeReason> {
        self.reasons
            .iter()
            .find(|(candidate, _)| *candidate == key)
            .map(|(_, reason)| reason)
    }
}

/// Why a peer is unchoked, or why it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnchokeReason {
    /// Won a regular slot by rate.
    BestRate {
        /// Position in the ranking, 0 for the best.
        rank: usize,
        /// The rate it was ranked by (bytes/s): from it while leeching, to it while seeding.
        rate: u64,
    },
    /// Holds an optimistic slot.
    Optimistic {
        /// The peer counted as new in the draw, and so had the new-peer weight.
        new_peer: bool,
    },
    /// Unchoked because it is interested, by a strategy that unchokes every such peer.
    Interested,
    /// Unchoked by a uniform random draw.
    RandomDraw,
    /// Choked, for the reason given.
    Choked(ChokeReason),
}

/// Why a peer is choked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChokeReason {
    /// The peer wants nothing from us, so a slot would be wasted on it.
    NotInterested,
    /// The peer sent us nothing for the snub timeout while we leech; it keeps only its chance at
    /// the optimistic slot.
    Snubbed,
    /// Other interested peers had better rates, and it did not win the optimistic draw.
    Outranked {
        /// Position in the ranking, 0 for the best.
        rank: usize,
        /// The rate it was ranked by (bytes/s).
        rate: u64,
    },
    /// Lost a uniform random draw.
    NotDrawn,
    /// We upload to nobody: the free rider of incentive experiments.
    FreeRiding,
}

/// Orders `peers` for regular slots: by ranking rate, best first; among equal rates a peer we
/// already unchoke comes first (so idle peers are not shuffled in and out each period), then the
/// order `peers` came in. Callers shuffle the input first to make the last tie-break random.
pub(crate) fn rank_by_rate<'a>(
    peers: impl IntoIterator<Item = &'a ChokePeer>,
    mode: TorrentMode,
) -> Vec<&'a ChokePeer> {
    let mut ranked: Vec<&ChokePeer> = peers.into_iter().collect();
    ranked.sort_by_key(|peer| {
        (
            std::cmp::Reverse(peer.ranking_rate(mode)),
            peer.choked_by_us,
        )
    });
    ranked
}
