//! Tit-for-tat choking (BEP 3, Cohen 2003): the default strategy.
//!
//! Each call ranks the interested, non-snubbed peers by rate (from them while leeching, to them
//! while seeding) and gives the best ones the regular slots. Each optimistic slot lasts for
//! [`ChokeConfig::optimistic_interval`] and then goes to a new peer drawn at random, a new peer
//! being [`ChokeConfig::new_peer_weight`] times as likely as an old one.
//!
//! Policies where implementations differ, chosen here:
//! - **Uninterested peers are always choked.** Mainline also unchokes uninterested peers with
//!   better rates than the worst unchoked downloader, so that they are served at once when they
//!   become interested (against "fibrillation"). We skip that: the actor may call `rechoke` as
//!   soon as a peer becomes interested, which serves it just as quickly without spending slots.
//! - **An optimistic peer holds its slot for its whole term**, even if its rate would earn a
//!   regular slot; it is left out of the ranking meanwhile, so the optimistic peer is never also
//!   counted as regular and a regular slot is never wasted on it. When its term ends it is ranked
//!   with everyone else and keeps being unchoked if it earned it.
//! - **The optimistic draw prefers choked peers**: peers that are interested, not in the regular
//!   set and choked by us now. Only if there are none does it fall back to interested peers that
//!   are unchoked now (a regular peer that just lost its slot, or the outgoing optimistic peer), so
//!   a small swarm does not leave a slot empty.
//! - **A snubbed peer gets no regular slot**, even if one would stay empty; it may still win the
//!   optimistic draw, which is its way back.
//! - **An optimistic peer that disconnects or loses interest frees its slot**, refilled in the
//!   same call with a fresh term.
//! - **Ties in rate** go first to a peer we already unchoke (so idle peers are not swapped every
//!   period), then at random.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::strategy::rank_by_rate;
use super::{
    ChokeConfig, ChokeDecision, ChokePeer, ChokeReason, ChokeStrategy, PeerKey, TorrentMode,
    UnchokeReason,
};

/// The tit-for-tat choker with a rotating optimistic unchoke; see the module docs.
#[derive(Debug)]
pub struct TitForTat {
    config: ChokeConfig,
    /// Seeded, so that a run of decisions is reproducible in tests and experiments.
    rng: StdRng,
    /// The optimistic slots in use, each with its own term, carried from call to call.
    optimistic: Vec<OptimisticSlot>,
}

/// One optimistic unchoke and the start of its term.
#[derive(Debug, Clone, Copy)]
struct OptimisticSlot {
    peer: PeerKey,
    since: Instant,
    /// Whether the peer had the new-peer weight when drawn, reported in its reason.
    new_peer: bool,
}

impl TitForTat {
    /// A tit-for-tat choker whose random choices (optimistic draws, tie-breaks) come from `seed`.
    pub fn new(config: ChokeConfig, seed: u64) -> Self {
        Self {
            config,
            rng: StdRng::seed_from_u64(seed),
            optimistic: Vec::new(),
        }
    }

    /// The configuration, from which the actor takes its rechoke interval.
    pub fn config(&self) -> &ChokeConfig {
        &self.config
    }

    /// Frees the optimistic slots whose peer is gone or uninterested, or whose term is over.
    fn release_optimistic_slots(&mut self, peers: &[ChokePeer], now: Instant) {
        let still_interested: BTreeSet<PeerKey> = peers
            .iter()
            .filter(|peer| peer.interested)
            .map(|peer| peer.key)
            .collect();
        let term = self.config.optimistic_interval;
        self.optimistic.retain(|slot| {
            still_interested.contains(&slot.peer)
                && now.saturating_duration_since(slot.since) < term
        });
    }

    fn holds_optimistic(&self, key: PeerKey) -> Option<&OptimisticSlot> {
        self.optimistic.iter().find(|slot| slot.peer == key)
    }

    /// The peers that compete for regular slots, best first: interested, not snubbed, not
    /// holding an optimistic slot.
    fn rank_candidates<'a>(
        &mut self,
        peers: &'a [ChokePeer],
        mode: TorrentMode,
        now: Instant,
    ) -> Vec<&'a ChokePeer> {
        let snub_timeout = self.config.snub_timeout;
        let mut candidates: Vec<&ChokePeer> = peers
            .iter()
            .filter(|peer| peer.interested && !peer.is_snubbed(mode, snub_timeout, now))
            .filter(|peer| self.holds_optimistic(peer.key).is_none())
            .collect();
        candidates.shuffle(&mut self.rng);
        rank_by_rate(candidates, mode)
    }

    /// Fills the free optimistic slots by weighted draws among peers outside `regular`.
    fn fill_optimistic_slots(
        &mut self,
        peers: &[ChokePeer],
        regular: &BTreeSet<PeerKey>,
        now: Instant,
    ) {
        while self.optimistic.len() < self.config.optimistic_slots {
            let Some(winner) = self.draw_optimistic(peers, regular, now) else {
                break;
            };
            let new_peer = winner.is_new(self.config.new_peer_window, now);
            self.optimistic.push(OptimisticSlot {
                peer: winner.key,
                since: now,
                new_peer,
            });
        }
    }

    /// Draws one peer for an optimistic slot, new peers weighted up; `None` if nobody is eligible.
    fn draw_optimistic<'a>(
        &mut self,
        peers: &'a [ChokePeer],
        regular: &BTreeSet<PeerKey>,
        now: Instant,
    ) -> Option<&'a ChokePeer> {
        let eligible: Vec<&ChokePeer> = peers
            .iter()
            .filter(|peer| peer.interested && !regular.contains(&peer.key))
            .filter(|peer| self.holds_optimistic(peer.key).is_none())
            .collect();
        let choked: Vec<&ChokePeer> = eligible
            .iter()
            .copied()
            .filter(|peer| peer.choked_by_us)
            .collect();
        let pool = if choked.is_empty() { eligible } else { choked };

        // A weight of 0 would make the draw impossible when every peer is new; count it as 1.
        let new_weight = u64::from(self.config.new_peer_weight.max(1));
        let window = self.config.new_peer_window;
        let weight = |peer: &ChokePeer| {
            if peer.is_new(window, now) {
                new_weight
            } else {
                1
            }
        };
        let total: u64 = pool.iter().map(|peer| weight(peer)).sum();
        if total == 0 {
            return None;
        }
        // Walk the pool, spending the ticket on each weight; it runs out inside the pool
        // because it was drawn below the total.
        let mut ticket = self.rng.random_range(0..total);
        pool.into_iter().find(|peer| {
            let peer_weight = weight(peer);
            if ticket < peer_weight {
                return true;
            }
            ticket -= peer_weight;
            false
        })
    }

    /// Builds the decision, with one reason per input peer.
    fn explain(
        &self,
        peers: &[ChokePeer],
        ranking: &[&ChokePeer],
        regular: BTreeSet<PeerKey>,
        mode: TorrentMode,
    ) -> ChokeDecision {
        let rank_of: HashMap<PeerKey, usize> = ranking
            .iter()
            .enumerate()
            .map(|(rank, peer)| (peer.key, rank))
            .collect();
        let reasons = peers
            .iter()
            .map(|peer| {
                let rate = peer.ranking_rate(mode);
                let reason = if let Some(slot) = self.holds_optimistic(peer.key) {
                    UnchokeReason::Optimistic {
                        new_peer: slot.new_peer,
                    }
                } else if !peer.interested {
                    UnchokeReason::Choked(ChokeReason::NotInterested)
                } else if let Some(&rank) = rank_of.get(&peer.key) {
                    if regular.contains(&peer.key) {
                        UnchokeReason::BestRate { rank, rate }
                    } else {
                        UnchokeReason::Choked(ChokeReason::Outranked { rank, rate })
                    }
                } else {
                    // Interested, not optimistic and not ranked: only snubbed peers are left out.
                    UnchokeReason::Choked(ChokeReason::Snubbed)
                };
                (peer.key, reason)
            })
            .collect();
        ChokeDecision {
            regular,
            optimistic: self.optimistic.iter().map(|slot| slot.peer).collect(),
            reasons,
        }
    }
}

impl ChokeStrategy for TitForTat {
    fn rechoke(&mut self, peers: &[ChokePeer], mode: TorrentMode, now: Instant) -> ChokeDecision {
        self.release_optimistic_slots(peers, now);
        let ranking = self.rank_candidates(peers, mode, now);
        let regular: BTreeSet<PeerKey> = ranking
            .iter()
            .take(self.config.unchoke_slots)
            .map(|peer| peer.key)
            .collect();
        self.fill_optimistic_slots(peers, &regular, now);
        self.explain(peers, &ranking, regular, mode)
    }

    fn name(&self) -> &'static str {
        "tit-for-tat"
    }
}

#[cfg(test)]
mod tests;
