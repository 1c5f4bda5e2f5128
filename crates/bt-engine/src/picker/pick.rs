//! Choosing blocks: partial pieces first, then new pieces in the configured order, then endgame
//! duplicates.

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BlockRef, PieceIndex};
use rand::RngExt;

use super::partial::{BlockState, PartialPiece};
use super::scan::{self, index_u32};
use super::standard::StandardPicker;
use super::{PeerKey, PieceOrder};

impl StandardPicker {
    /// See [`PiecePicker::pick_blocks`](super::PiecePicker::pick_blocks).
    pub(super) fn pick(&mut self, peer: PeerKey, max: usize) -> Vec<BlockRef> {
        self.pick_within(peer, max, None)
    }

    /// See [`PiecePicker::pick_blocks_in`](super::PiecePicker::pick_blocks_in). In
    /// sequential order (a streaming client's) the order comes first: suggestions are
    /// ignored and nothing is picked out of order while choked, allowed-fast or not.
    pub(super) fn pick_in(
        &mut self,
        peer: PeerKey,
        max: usize,
        pieces: &[PieceIndex],
        only: bool,
    ) -> Vec<BlockRef> {
        if self.config.order == PieceOrder::Sequential {
            return if only {
                Vec::new()
            } else {
                self.pick(peer, max)
            };
        }
        let mut picked = self.pick_within(peer, max, Some(pieces));
        if !only && picked.len() < max {
            picked.extend(self.pick_within(peer, max - picked.len(), None));
        }
        picked
    }

    /// Picks up to `max` blocks among the pieces the peer has, narrowed to `within` if given.
    fn pick_within(
        &mut self,
        peer: PeerKey,
        max: usize,
        within: Option<&[PieceIndex]>,
    ) -> Vec<BlockRef> {
        if max == 0 || self.banned.contains(&peer) {
            return Vec::new();
        }
        // Taken out for the duration, so its bitfield can be read while the rest is updated.
        let Some(mut state) = self.peers.remove(&peer) else {
            return Vec::new();
        };
        let narrowed = within.map(|pieces| {
            let mut mask = Bitfield::new(state.have.piece_count());
            for piece in pieces.iter().filter(|p| state.have.has(p.as_usize())) {
                let _ = mask.set(piece.as_usize());
            }
            mask
        });
        let have = narrowed.as_ref().unwrap_or(&state.have);
        let mut picked = Vec::new();
        self.continue_partials(peer, have, max, &mut picked);
        self.start_new_pieces(peer, have, max, &mut picked);
        if picked.len() < max && self.endgame() {
            self.duplicate_requests(peer, have, max, &mut picked);
        }
        state.requests.extend(picked.iter().copied());
        self.peers.insert(peer, state);
        picked
    }

    /// Whether endgame is on: no connected peer has a piece we could start, and no piece in
    /// flight has a free block some connected peer could serve (a stalled piece's free blocks
    /// cannot be requested, just like a candidate nobody has).
    pub(super) fn endgame(&self) -> bool {
        !self.in_flight.is_empty()
            && self.avail.available_candidates() == 0
            && self
                .in_flight
                .iter()
                .all(|(piece, partial)| partial.free == 0 || self.avail.count(*piece) == 0)
    }

    /// Takes free blocks of pieces in flight the peer has: under sequential order lowest index
    /// first; otherwise the pieces this peer was working on first, then the nearest to done.
    fn continue_partials(
        &mut self,
        peer: PeerKey,
        peer_have: &Bitfield,
        max: usize,
        picked: &mut Vec<BlockRef>,
    ) {
        let sequential = self.config.order == PieceOrder::Sequential;
        let mut order: Vec<(bool, usize, PieceIndex)> = self
            .in_flight
            .iter()
            .filter(|(piece, partial)| partial.free > 0 && peer_have.has(piece.as_usize()))
            .map(|(&piece, partial)| {
                if sequential {
                    (false, 0, piece)
                } else {
                    (partial.owner != Some(peer), partial.free, piece)
                }
            })
            .collect();
        order.sort_unstable();
        for (_, _, piece) in order {
            if picked.len() >= max {
                break;
            }
            self.take_from(piece, peer, max - picked.len(), picked);
        }
    }

    /// Starts new pieces while the peer has candidates, the pick is short and the cap allows.
    fn start_new_pieces(
        &mut self,
        peer: PeerKey,
        peer_have: &Bitfield,
        max: usize,
        picked: &mut Vec<BlockRef>,
    ) {
        let mut active = self.active_pieces();
        let cap = self.piece_cap();
        while picked.len() < max && active < cap {
            let Some(piece) = self.next_piece(peer_have) else {
                break;
            };
            self.avail.remove_candidate(piece);
            let blocks = self.lengths.block_count(piece) as usize;
            self.in_flight.insert(piece, PartialPiece::new(blocks));
            self.take_from(piece, peer, max - picked.len(), picked);
            active += 1;
        }
    }

    /// The pieces in flight that count against the cap: all but those stalled, that is not
    /// complete and held by no connected peer. A stalled piece cannot progress, so counting it
    /// would let a few departed peers wedge the download; it holds only its block table.
    pub(super) fn active_pieces(&self) -> usize {
        self.in_flight
            .iter()
            .filter(|(piece, partial)| partial.is_complete() || self.avail.count(**piece) > 0)
            .count()
    }

    /// Requests up to `max` free blocks of a piece in flight from the peer.
    fn take_from(&mut self, piece: PieceIndex, peer: PeerKey, max: usize, out: &mut Vec<BlockRef>) {
        let Some(partial) = self.in_flight.get_mut(&piece) else {
            return;
        };
        let lengths = &self.lengths;
        out.extend(
            partial
                .take_free(peer, max)
                .into_iter()
                .filter_map(|index| lengths.block(piece, index)),
        );
    }

    /// The next candidate to start that the peer has, in the configured order.
    fn next_piece(&mut self, peer_have: &Bitfield) -> Option<PieceIndex> {
        let candidates = self.avail.candidates();
        let index = match self.config.order {
            PieceOrder::RarestFirst if self.have_count >= self.config.random_first_pieces => {
                return self.avail.rarest(&mut self.rng, peer_have);
            }
            PieceOrder::RarestFirst | PieceOrder::Random => {
                // A uniform draw among the peer's candidates: count them, then find the k-th.
                let count = scan::count_common(candidates, peer_have);
                if count == 0 {
                    return None;
                }
                scan::nth_common(candidates, peer_have, self.rng.random_range(0..count))
            }
            PieceOrder::Sequential => scan::common(candidates, peer_have).next(),
        };
        index.and_then(|i| self.lengths.piece(index_u32(i)))
    }

    /// Endgame: asks the peer for blocks already requested from others, those with the fewest
    /// requesters first, each block from at most `endgame_max_duplicates` extra peers.
    fn duplicate_requests(
        &mut self,
        peer: PeerKey,
        peer_have: &Bitfield,
        max: usize,
        picked: &mut Vec<BlockRef>,
    ) {
        let limit = self.config.endgame_max_duplicates.saturating_add(1);
        let mut options: Vec<(usize, PieceIndex, usize)> = Vec::new();
        for (&piece, partial) in &self.in_flight {
            if !peer_have.has(piece.as_usize()) {
                continue;
            }
            for (index, state) in partial.blocks.iter().enumerate() {
                if let BlockState::Requested(peers) = state {
                    if peers.len() < limit && !peers.contains(&peer) {
                        options.push((peers.len(), piece, index));
                    }
                }
            }
        }
        options.sort_unstable();
        for (_, piece, index) in options.into_iter().take(max - picked.len()) {
            let block = self.lengths.block(piece, index_u32(index));
            if let (Some(partial), Some(block)) = (self.in_flight.get_mut(&piece), block) {
                partial.duplicate(index, peer);
                picked.push(block);
            }
        }
    }
}
