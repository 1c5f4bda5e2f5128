//! Baseline strategies for experiments: what choking looks like without tit-for-tat, and a
//! peer that never uploads.
//!
//! None remembers anything between calls, and none looks at rates or snubbing, so a
//! comparison against [`TitForTat`](super::TitForTat) shows what ranking and snubbing buy.

use std::collections::BTreeSet;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{
    ChokeConfig, ChokeDecision, ChokePeer, ChokeReason, ChokeStrategy, PeerKey, TorrentMode,
    UnchokeReason,
};

/// Unchokes every interested peer: no incentive at all, the "everybody shares" baseline.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnchokeAll;

impl ChokeStrategy for UnchokeAll {
    fn rechoke(&mut self, peers: &[ChokePeer], _mode: TorrentMode, _now: Instant) -> ChokeDecision {
        let regular = peers
            .iter()
            .filter(|peer| peer.interested)
            .map(|peer| peer.key)
            .collect();
        let reasons = peers
            .iter()
            .map(|peer| {
                let reason = if peer.interested {
                    UnchokeReason::Interested
                } else {
                    UnchokeReason::Choked(ChokeReason::NotInterested)
                };
                (peer.key, reason)
            })
            .collect();
        ChokeDecision {
            regular,
            optimistic: BTreeSet::new(),
            reasons,
        }
    }

    fn name(&self) -> &'static str {
        "unchoke-all"
    }
}

/// Unchokes nobody, ever: a free rider, which downloads from whoever unchokes it and uploads
/// nothing (Cohen 2003; Locher et al. 2006, "Free Riding in BitTorrent is Cheap"). An upload
/// limit of 0 means unlimited, so this is how a peer is made to upload nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct FreeRider;

impl ChokeStrategy for FreeRider {
    fn rechoke(&mut self, peers: &[ChokePeer], _mode: TorrentMode, _now: Instant) -> ChokeDecision {
        let reason = UnchokeReason::Choked(ChokeReason::FreeRiding);
        ChokeDecision {
            reasons: peers.iter().map(|peer| (peer.key, reason)).collect(),
            ..ChokeDecision::default()
        }
    }

    fn name(&self) -> &'static str {
        "free-rider"
    }
}

/// Unchokes `unchoke_slots + optimistic_slots` interested peers drawn uniformly at random on every
/// call: the same number of slots as tit-for-tat, with no ranking.
///
/// All winners go in [`ChokeDecision::regular`] with [`UnchokeReason::RandomDraw`]; with every
/// slot random, none is more optimistic than another.
#[derive(Debug)]
pub struct RandomChoke {
    config: ChokeConfig,
    /// Seeded, so that a run of decisions is reproducible.
    rng: StdRng,
}

impl RandomChoke {
    /// A random choker whose draws come from `seed`; only the slot counts of `config` are used.
    pub fn new(config: ChokeConfig, seed: u64) -> Self {
        Self {
            config,
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl ChokeStrategy for RandomChoke {
    fn rechoke(&mut self, peers: &[ChokePeer], _mode: TorrentMode, _now: Instant) -> ChokeDecision {
        let mut interested: Vec<PeerKey> = peers
            .iter()
            .filter(|peer| peer.interested)
            .map(|peer| peer.key)
            .collect();
        interested.shuffle(&mut self.rng);
        let slots = self.config.unchoke_slots + self.config.optimistic_slots;
        let regular: BTreeSet<PeerKey> = interested.into_iter().take(slots).collect();
        let reasons = peers
            .iter()
            .map(|peer| {
                let reason = if regular.contains(&peer.key) {
                    UnchokeReason::RandomDraw
                } else if peer.interested {
                    UnchokeReason::Choked(ChokeReason::NotDrawn)
                } else {
                    UnchokeReason::Choked(ChokeReason::NotInterested)
                };
                (peer.key, reason)
            })
            .collect();
        ChokeDecision {
            regular,
            optimistic: BTreeSet::new(),
            reasons,
        }
    }

    fn name(&self) -> &'static str {
        "random"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choker::test_support::{at, interested_peer, uninterested_peer};

    #[test]
    fn unchoke_all_unchokes_exactly_the_interested_peers() {
        let peers = vec![
            interested_peer(1, 0),
            uninterested_peer(2, 500),
            interested_peer(3, 10),
        ];
        let decision = UnchokeAll.rechoke(&peers, TorrentMode::Leeching, at(0));
        assert_eq!(decision.unchoked(), [PeerKey(1), PeerKey(3)].into());
        assert_eq!(
            decision.reason_for(PeerKey(2)),
            Some(&UnchokeReason::Choked(ChokeReason::NotInterested))
        );
    }

    #[test]
    fn a_free_rider_unchokes_nobody_and_says_so() {
        let peers = vec![interested_peer(1, 1_000_000), uninterested_peer(2, 0)];
        let decision = FreeRider.rechoke(&peers, TorrentMode::Seeding, at(0));
        assert!(decision.unchoked().is_empty());
        for key in [PeerKey(1), PeerKey(2)] {
            assert_eq!(
                decision.reason_for(key),
                Some(&UnchokeReason::Choked(ChokeReason::FreeRiding))
            );
        }
    }

    #[test]
    fn random_choke_fills_all_slots_with_interested_peers_and_varies() {
        let mut peers: Vec<ChokePeer> = (0..10).map(|key| interested_peer(key, 0)).collect();
        peers.push(uninterested_peer(99, 1_000));
        let mut strategy = RandomChoke::new(ChokeConfig::default(), 7);
        let mut seen = BTreeSet::new();
        for round in 0..20 {
            let decision = strategy.rechoke(&peers, TorrentMode::Leeching, at(round * 10));
            assert_eq!(decision.regular.len(), 4);
            assert!(decision.optimistic.is_empty());
            assert!(!decision.is_unchoked(PeerKey(99)));
            seen.insert(decision.regular);
        }
        assert!(seen.len() > 1, "random draws should differ between calls");
    }

    #[test]
    fn random_choke_with_fewer_peers_than_slots_unchokes_them_all() {
        let peers = vec![interested_peer(1, 0), interested_peer(2, 0)];
        let mut strategy = RandomChoke::new(ChokeConfig::default(), 1);
        let decision = strategy.rechoke(&peers, TorrentMode::Seeding, at(0));
        assert_eq!(decision.unchoked(), [PeerKey(1), PeerKey(2)].into());
    }
}
