//! [`StrikeBook`]: hash-check strikes per *peer*, across its connections.
//!
//! The piece picker strikes the connections ([`PeerKey`]s) that sent blocks of a piece that
//! failed its hash check, and bans a connection at the strike limit. A peer that hangs up
//! after each piece of garbage and comes back would start from zero strikes on every new
//! connection, and its last strikes often land after it left. The supervisor knows who is
//! behind each key, so it keeps the count per peer: by peer id, and for connections we
//! dialled also by the address we dialled (a peer that changes its id but listens at the
//! same address is still the same peer). A peer reaching the limit under either is banned.
//!
//! Who was behind a key is kept after the connection ends (a piece can fail long after one
//! of its contributors left), for the last [`DEPARTED_KEPT`] ended connections.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

use bt_proto::PeerId;

use crate::choker::PeerKey;

/// Ended connections whose peer is remembered, for pieces that fail after they left.
const DEPARTED_KEPT: usize = 1024;

/// Who is behind a connection, as far as strikes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Striker {
    /// The id from its handshake.
    pub(super) peer_id: PeerId,
    /// The address we dialled, for an outgoing connection (an incoming one's port is
    /// ephemeral, so it says nothing).
    pub(super) dialled: Option<SocketAddr>,
}

/// What a peer is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Name {
    Id(PeerId),
    Addr(SocketAddr),
}

/// Strikes per peer; see the module docs.
#[derive(Debug)]
pub(super) struct StrikeBook {
    /// Strikes that ban; 0 never bans.
    limit: u32,
    /// Who is behind each live or recently ended connection.
    keys: HashMap<PeerKey, Striker>,
    /// Ended connections, oldest first, to forget the oldest past [`DEPARTED_KEPT`].
    departed: VecDeque<PeerKey>,
    strikes: HashMap<Name, u32>,
}

impl StrikeBook {
    /// An empty book that bans at `limit` strikes (0: never).
    pub(super) fn new(limit: u32) -> Self {
        Self {
            limit,
            keys: HashMap::new(),
            departed: VecDeque::new(),
            strikes: HashMap::new(),
        }
    }

    /// A connection started.
    pub(super) fn connected(&mut self, key: PeerKey, striker: Striker) {
        self.keys.insert(key, striker);
    }

    /// A connection ended; who was behind it is kept a while.
    pub(super) fn departed(&mut self, key: PeerKey) {
        if !self.keys.contains_key(&key) {
            return;
        }
        self.departed.push_back(key);
        while self.departed.len() > DEPARTED_KEPT {
            if let Some(oldest) = self.departed.pop_front() {
                self.keys.remove(&oldest);
            }
        }
    }

    /// Who was behind `key`, if it is remembered.
    pub(super) fn striker(&self, key: PeerKey) -> Option<Striker> {
        self.keys.get(&key).copied()
    }

    /// A piece failed its hash check with blocks from `contributors`: each peer behind them
    /// gets one strike (however many of its connections took part). Returns the peers that
    /// reached the limit now or before.
    pub(super) fn piece_failed(&mut self, contributors: &[PeerKey]) -> Vec<Striker> {
        let peers: HashSet<Striker> = contributors
            .iter()
            .filter_map(|key| self.keys.get(key).copied())
            .collect();
        let names: HashSet<Name> = peers.iter().flat_map(|p| names(*p)).collect();
        for name in names {
            *self.strikes.entry(name).or_insert(0) += 1;
        }
        let mut banned: Vec<Striker> = peers
            .into_iter()
            .filter(|p| self.limit > 0 && self.count(*p) >= self.limit)
            .collect();
        banned.sort_by_key(|p| p.peer_id);
        banned
    }

    /// The strikes of a peer: the higher of its id's and its dialled address's.
    fn count(&self, striker: Striker) -> u32 {
        names(striker)
            .filter_map(|name| self.strikes.get(&name).copied())
            .max()
            .unwrap_or(0)
    }
}

/// What `striker` is counted by.
fn names(striker: Striker) -> impl Iterator<Item = Name> {
    std::iter::once(Name::Id(striker.peer_id)).chain(striker.dialled.map(Name::Addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: u8, dialled: Option<u16>) -> Striker {
        Striker {
            peer_id: PeerId([id; 20]),
            dialled: dialled.map(|port| SocketAddr::from(([127, 0, 0, 1], port))),
        }
    }

    #[test]
    fn strikes_follow_the_peer_across_connections() {
        let mut book = StrikeBook::new(3);
        let liar = peer(1, Some(6881));
        for key in 1..=2 {
            book.connected(PeerKey(key), liar);
            assert!(book.piece_failed(&[PeerKey(key)]).is_empty());
            book.departed(PeerKey(key));
        }
        book.connected(PeerKey(3), liar);
        assert_eq!(book.piece_failed(&[PeerKey(3)]), vec![liar]);
    }

    #[test]
    fn a_piece_failing_after_its_contributor_left_still_strikes_it() {
        let mut book = StrikeBook::new(1);
        let liar = peer(1, None);
        book.connected(PeerKey(1), liar);
        book.departed(PeerKey(1));
        assert_eq!(book.striker(PeerKey(1)), Some(liar));
        assert_eq!(book.piece_failed(&[PeerKey(1)]), vec![liar]);
    }

    #[test]
    fn one_failure_is_one_strike_however_many_connections_took_part() {
        let mut book = StrikeBook::new(2);
        let liar = peer(1, Some(6881));
        book.connected(PeerKey(1), liar);
        book.departed(PeerKey(1));
        book.connected(PeerKey(2), liar);
        assert!(book.piece_failed(&[PeerKey(1), PeerKey(2)]).is_empty());
        assert_eq!(book.piece_failed(&[PeerKey(2)]), vec![liar]);
    }

    #[test]
    fn a_new_peer_id_at_the_same_dialled_address_keeps_the_strikes() {
        let mut book = StrikeBook::new(2);
        book.connected(PeerKey(1), peer(1, Some(6881)));
        assert!(book.piece_failed(&[PeerKey(1)]).is_empty());
        book.departed(PeerKey(1));
        let disguised = peer(2, Some(6881));
        book.connected(PeerKey(2), disguised);
        assert_eq!(book.piece_failed(&[PeerKey(2)]), vec![disguised]);
    }

    #[test]
    fn honest_peers_sharing_a_failed_piece_are_struck_once_each() {
        let mut book = StrikeBook::new(2);
        let (liar, honest) = (peer(1, Some(1)), peer(2, Some(2)));
        book.connected(PeerKey(1), liar);
        book.connected(PeerKey(2), honest);
        book.connected(PeerKey(3), peer(3, Some(3)));
        assert!(book.piece_failed(&[PeerKey(1), PeerKey(2)]).is_empty());
        assert_eq!(book.piece_failed(&[PeerKey(1), PeerKey(3)]), vec![liar]);
    }

    #[test]
    fn a_limit_of_zero_never_bans_and_unknown_keys_are_ignored() {
        let mut book = StrikeBook::new(0);
        book.connected(PeerKey(1), peer(1, None));
        for _ in 0..10 {
            assert!(book.piece_failed(&[PeerKey(1), PeerKey(99)]).is_empty());
        }
    }

    #[test]
    fn only_the_most_recent_departures_are_remembered() {
        let mut book = StrikeBook::new(1);
        for key in 0..=DEPARTED_KEPT as u64 {
            book.connected(PeerKey(key), peer(1, None));
            book.departed(PeerKey(key));
        }
        assert_eq!(book.striker(PeerKey(0)), None);
        assert!(book.striker(PeerKey(1)).is_some());
    }
}
