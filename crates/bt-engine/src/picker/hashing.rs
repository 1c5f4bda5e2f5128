//! Arrivals and the fate of a piece after its hash check.

use bt_proto::geometry::{BlockRef, PieceIndex};

use super::partial::Arrival;
use super::standard::StandardPicker;
use super::{BlockOutcome, BlockReceived, PeerKey};

impl StandardPicker {
    /// A PIECE message; see [`PiecePicker::block_received`](super::PiecePicker::block_received).
    pub(super) fn receive(&mut self, peer: PeerKey, block: &BlockRef) -> BlockReceived {
        let mut answer = BlockReceived {
            outcome: BlockOutcome::Unrequested,
            cancels: Vec::new(),
            piece_complete: None,
        };
        if let Some(state) = self.peers.get_mut(&peer) {
            state.requests.remove(block);
        }
        let index = self.lengths.block_index(block);
        let partial = self.in_flight.get_mut(&block.piece);
        let (Some(index), Some(partial), false) = (index, partial, self.banned.contains(&peer))
        else {
            return answer;
        };
        match partial.receive(index as usize, peer) {
            None => {}
            Some(Arrival::Duplicate) => answer.outcome = BlockOutcome::Duplicate,
            Some(Arrival::New { others }) => {
                answer.outcome = BlockOutcome::New;
                answer.piece_complete = partial.is_complete().then_some(block.piece);
                for other in others {
                    if let Some(state) = self.peers.get_mut(&other) {
                        state.requests.remove(block);
                    }
                    answer.cancels.push((other, *block));
                }
            }
        }
        answer
    }

    /// The piece passed its hash check; true if it is new to us.
    pub(super) fn verified(&mut self, piece: PieceIndex) -> bool {
        let index = piece.as_usize();
        if self.have.set(index) != Ok(true) {
            return false;
        }
        // Any requests still outstanding (a stray endgame duplicate) are moot now.
        self.drop_in_flight(piece);
        self.avail.remove_candidate(piece);
        self.avail.add_own_copy(piece);
        self.have_count += 1;
        if self.wanted.has(index) {
            self.missing = self.missing.saturating_sub(1);
            for state in self.peers.values_mut() {
                if state.have.has(index) {
                    state.wanted_lacking = state.wanted_lacking.saturating_sub(1);
                }
            }
        }
        true
    }

    /// The piece failed its hash check: start it over and strike its contributors; returns the
    /// peers this failure banned.
    pub(super) fn failed(&mut self, piece: PieceIndex) -> Vec<PeerKey> {
        let Some(partial) = self.in_flight.get(&piece) else {
            return Vec::new();
        };
        let contributors = partial.contributors();
        self.drop_in_flight(piece);
        if self.should_be_candidate(piece) {
            self.avail.insert_candidate(piece);
        }
        let mut banned = Vec::new();
        for peer in contributors {
            let strikes = self.strikes.entry(peer).or_insert(0);
            *strikes += 1;
            let limit = self.config.max_strikes;
            if limit > 0 && *strikes >= limit && self.banned.insert(peer) {
                self.release_all(peer);
                banned.push(peer);
            }
        }
        banned
    }
}
