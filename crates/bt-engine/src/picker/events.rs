//! Peer events: bitfields and HAVEs, releases, disconnects, interest and the wanted mask.

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, PieceIndex};

use super::PeerKey;
use super::scan::index_u32;
use super::standard::{PeerState, StandardPicker};

impl StandardPicker {
    /// The peer's state, registering it (with no pieces) on its first event.
    fn peer_entry(&mut self, peer: PeerKey) -> &mut PeerState {
        let piece_count = self.have.len();
        self.peers
            .entry(peer)
            .or_insert_with(|| PeerState::new(piece_count))
    }

    /// Swaps in a new bitfield (length already checked), moving availability from the old one.
    pub(super) fn replace_bitfield(&mut self, peer: PeerKey, bitfield: Bitfield) {
        let mut wanted_lacking = 0;
        for index in bitfield.iter_ones() {
            if let Some(piece) = self.lengths.piece(index_u32(index)) {
                let own = self.have.has(index);
                self.avail.increment(piece, own);
                wanted_lacking += usize::from(!own && self.wanted.has(index));
            }
        }
        let state = self.peer_entry(peer);
        state.wanted_lacking = wanted_lacking;
        let old = std::mem::replace(&mut state.have, bitfield);
        for index in old.iter_ones() {
            if let Some(piece) = self.lengths.piece(index_u32(index)) {
                self.avail.decrement(piece, self.have.has(index));
            }
        }
    }

    /// A HAVE for a validated piece.
    pub(super) fn add_have(&mut self, peer: PeerKey, piece: PieceIndex) {
        let index = piece.as_usize();
        let wants = self.wants(index);
        let state = self.peer_entry(peer);
        if state.have.set(index) != Ok(true) {
            return;
        }
        state.wanted_lacking += usize::from(wants);
        let own = self.have.has(index);
        self.avail.increment(piece, own);
    }

    /// Forgets a disconnected peer: its requests and its share of the availability.
    pub(super) fn remove_peer(&mut self, peer: PeerKey) {
        self.release_all(peer);
        let Some(state) = self.peers.remove(&peer) else {
            return;
        };
        for index in state.have.iter_ones() {
            if let Some(piece) = self.lengths.piece(index_u32(index)) {
                self.avail.decrement(piece, self.have.has(index));
            }
        }
    }

    /// Releases every request to the peer.
    pub(super) fn release_all(&mut self, peer: PeerKey) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        for block in std::mem::take(&mut state.requests) {
            self.release_in_piece(peer, &block);
        }
    }

    /// Releases one request, if the peer has it.
    pub(super) fn release(&mut self, peer: PeerKey, block: &BlockRef) {
        let removed = self
            .peers
            .get_mut(&peer)
            .is_some_and(|state| state.requests.remove(block));
        if removed {
            self.release_in_piece(peer, block);
        }
    }

    /// Marks the block no longer asked of `peer` in its piece (the peer's set is the caller's).
    /// A piece left with nothing requested and nothing received is un-started: it becomes a
    /// candidate again, free of the cap and open to the piece order's next decision.
    fn release_in_piece(&mut self, peer: PeerKey, block: &BlockRef) {
        let index = self.lengths.block_index(block);
        let (Some(partial), Some(index)) = (self.in_flight.get_mut(&block.piece), index) else {
            return;
        };
        partial.release(index as usize, peer);
        if partial.free == partial.blocks.len() {
            self.in_flight.remove(&block.piece);
            self.avail.insert_candidate(block.piece);
        }
    }

    /// The peers whose interest differs from what was last reported, now reported.
    pub(super) fn interest_changes(&mut self) -> Vec<(PeerKey, bool)> {
        self.peers
            .iter_mut()
            .filter_map(|(&key, state)| {
                let interesting = state.wanted_lacking > 0;
                (interesting != state.reported_interest).then(|| {
                    state.reported_interest = interesting;
                    (key, interesting)
                })
            })
            .collect()
    }

    /// Installs a new wanted mask (length already checked); returns the requests to cancel.
    pub(super) fn replace_wanted(&mut self, wanted: Bitfield) -> Vec<(PeerKey, BlockRef)> {
        self.wanted = wanted;
        let mut cancels = Vec::new();
        let abandoned: Vec<PieceIndex> = self
            .in_flight
            .keys()
            .copied()
            .filter(|piece| !self.wanted.has(piece.as_usize()))
            .collect();
        for piece in abandoned {
            cancels.extend(self.drop_in_flight(piece));
        }
        for piece in self.lengths.pieces() {
            if self.should_be_candidate(piece) {
                self.avail.insert_candidate(piece);
            } else {
                self.avail.remove_candidate(piece);
            }
        }
        self.missing = self
            .lengths
            .pieces()
            .filter(|p| self.wants(p.as_usize()))
            .count();
        for state in self.peers.values_mut() {
            state.wanted_lacking = state
                .have
                .iter_ones()
                .filter(|&i| self.wanted.has(i) && !self.have.has(i))
                .count();
        }
        cancels
    }

    /// Removes a piece from flight, releasing its outstanding requests from the peers' sets;
    /// returns them. The caller decides whether the piece becomes a candidate again.
    pub(super) fn drop_in_flight(&mut self, piece: PieceIndex) -> Vec<(PeerKey, BlockRef)> {
        let Some(partial) = self.in_flight.remove(&piece) else {
            return Vec::new();
        };
        let mut released = Vec::new();
        for (peer, index) in partial.outstanding() {
            let Some(block) = self.lengths.block(piece, index) else {
                continue;
            };
            if let Some(state) = self.peers.get_mut(&peer) {
                state.requests.remove(&block);
            }
            released.push((peer, block));
        }
        released
    }
}
