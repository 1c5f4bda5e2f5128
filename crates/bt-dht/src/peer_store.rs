//! The peers other nodes announced to us (`announce_peer`), served back in `get_peers`
//! replies until they expire.
//!
//! Bounded twice, since anyone can announce: at most `max_torrents` info-hashes (a new one
//! beyond that is refused) and `max_peers_per_torrent` peers each (a new peer replaces the one
//! announced longest ago). A peer that announces again is refreshed in place.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bt_proto::InfoHash;
use rand::Rng;
use rand::seq::IndexedRandom;

/// The limits of a [`PeerStore`].
#[derive(Clone, Copy, Debug)]
pub struct PeerStoreLimits {
    /// How long an announcement is served. BEP 5 leaves it open; peers re-announce every 15 to
    /// 30 minutes, so 30 minutes keeps a peer that missed one.
    pub ttl: Duration,
    /// Info-hashes held at once.
    pub max_torrents: usize,
    /// Peers held per info-hash.
    pub max_peers_per_torrent: usize,
}

impl Default for PeerStoreLimits {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30 * 60),
            max_torrents: 10_000,
            max_peers_per_torrent: 500,
        }
    }
}

/// Announced peers by info-hash.
#[derive(Debug)]
pub struct PeerStore {
    limits: PeerStoreLimits,
    torrents: HashMap<InfoHash, Vec<(SocketAddr, Instant)>>,
}

impl PeerStore {
    /// An empty store.
    pub fn new(limits: PeerStoreLimits) -> Self {
        Self {
            limits,
            torrents: HashMap::new(),
        }
    }

    /// Records that `peer` downloads `info_hash`; false if the store is full of other
    /// info-hashes.
    pub fn announce(&mut self, info_hash: InfoHash, peer: SocketAddr, now: Instant) -> bool {
        if !self.torrents.contains_key(&info_hash)
            && self.torrents.len() >= self.limits.max_torrents
        {
            return false;
        }
        let peers = self.torrents.entry(info_hash).or_default();
        if let Some(known) = peers.iter_mut().find(|(addr, _)| *addr == peer) {
            known.1 = now;
        } else if peers.len() < self.limits.max_peers_per_torrent {
            peers.push((peer, now));
        } else if let Some(oldest) = peers.iter_mut().min_by_key(|(_, at)| *at) {
            *oldest = (peer, now);
        }
        true
    }

    /// Up to `max` unexpired peers of `info_hash`, a random choice when there are more.
    pub fn peers(
        &self,
        info_hash: &InfoHash,
        max: usize,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Vec<SocketAddr> {
        let Some(peers) = self.torrents.get(info_hash) else {
            return Vec::new();
        };
        let live: Vec<SocketAddr> = peers
            .iter()
            .filter(|(_, at)| now.saturating_duration_since(*at) < self.limits.ttl)
            .map(|(addr, _)| *addr)
            .collect();
        live.sample(rng, max).copied().collect()
    }

    /// Drops expired announcements, and info-hashes left without peers.
    pub fn expire(&mut self, now: Instant) {
        let ttl = self.limits.ttl;
        self.torrents.retain(|_, peers| {
            peers.retain(|(_, at)| now.saturating_duration_since(*at) < ttl);
            !peers.is_empty()
        });
    }

    /// Info-hashes with peers.
    pub fn torrent_count(&self) -> usize {
        self.torrents.len()
    }

    /// Peers held, over all info-hashes.
    pub fn peer_count(&self) -> usize {
        self.torrents.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn peer(n: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 1], n))
    }

    #[test]
    fn announced_peers_are_served_until_they_expire() {
        let mut rng = StdRng::seed_from_u64(1);
        let start = Instant::now();
        let limits = PeerStoreLimits::default();
        let mut store = PeerStore::new(limits);
        let hash = InfoHash([1; 20]);
        assert!(store.announce(hash, peer(1), start));
        assert!(store.announce(hash, peer(2), start + limits.ttl / 2));
        assert!(store.announce(hash, peer(1), start + limits.ttl / 2)); // refreshed, not doubled
        assert_eq!(store.peer_count(), 2);
        assert!(
            store
                .peers(&InfoHash([2; 20]), 10, start, &mut rng)
                .is_empty()
        );
        let mut served = store.peers(&hash, 10, start + limits.ttl, &mut rng);
        served.sort();
        assert_eq!(served, [peer(1), peer(2)]);
        // Peer 1's refresh kept it; at 1.5 TTL both have expired.
        let late = start + limits.ttl * 3 / 2;
        assert!(store.peers(&hash, 10, late, &mut rng).is_empty());
        store.expire(late);
        assert_eq!(store.torrent_count(), 0);
    }

    #[test]
    fn the_store_is_bounded() {
        let mut rng = StdRng::seed_from_u64(2);
        let start = Instant::now();
        let mut store = PeerStore::new(PeerStoreLimits {
            ttl: Duration::from_secs(60),
            max_torrents: 2,
            max_peers_per_torrent: 3,
        });
        let hash = InfoHash([1; 20]);
        for n in 1..=4u16 {
            store.announce(hash, peer(n), start + Duration::from_secs(u64::from(n)));
        }
        // Peer 1 was the oldest and made room for peer 4.
        let mut served = store.peers(&hash, 10, start, &mut rng);
        served.sort();
        assert_eq!(served, [peer(2), peer(3), peer(4)]);
        assert_eq!(store.peers(&hash, 2, start, &mut rng).len(), 2);
        assert!(store.announce(InfoHash([2; 20]), peer(9), start));
        assert!(!store.announce(InfoHash([3; 20]), peer(9), start));
        assert_eq!(store.torrent_count(), 2);
    }
}
