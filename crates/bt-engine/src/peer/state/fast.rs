//! The BEP 6 allowed-fast and suggest side of [`PeerState`].
//!
//! - Allowed fast, received: pieces the peer lets us request while it chokes us. We keep at
//!   most [`MAX_ALLOWED_FAST`] of them and request only those the peer has (BEP 6 lets it
//!   allow pieces it lacks).
//! - Allowed fast, offered: pieces of our allowed-fast set (`bt_proto::ext::allowed_fast_set`)
//!   that we have. Requests for them are served even while we choke the peer, and a CHOKE
//!   does not drop them.
//! - Suggest: a hint to download a piece; we keep the most recent [`MAX_SUGGESTED`] for the
//!   next pick to prefer.

use std::collections::VecDeque;
use std::time::Instant;

use bt_proto::geometry::PieceIndex;
use bt_proto::wire::PeerMessage;

use super::PeerState;

/// The most allowed-fast pieces kept from one peer.
pub const MAX_ALLOWED_FAST: usize = 32;

/// The most suggestions kept from one peer.
pub const MAX_SUGGESTED: usize = 32;

/// What BEP 6 allowed and suggested on one connection.
#[derive(Debug, Clone, Default)]
pub(super) struct FastSets {
    /// Pieces the peer allowed us to request while choked.
    allowed_in: Vec<PieceIndex>,
    /// Pieces we allowed the peer to request while we choke it.
    allowed_out: Vec<PieceIndex>,
    /// The peer's suggestions not used yet, oldest first.
    suggested: VecDeque<PieceIndex>,
}

impl FastSets {
    /// The peer allowed us `piece`.
    pub(super) fn note_allowed(&mut self, piece: PieceIndex) {
        if self.allowed_in.len() < MAX_ALLOWED_FAST && !self.allowed_in.contains(&piece) {
            self.allowed_in.push(piece);
        }
    }

    /// The peer suggested `piece`.
    pub(super) fn note_suggested(&mut self, piece: PieceIndex) {
        if self.suggested.contains(&piece) {
            return;
        }
        if self.suggested.len() >= MAX_SUGGESTED {
            self.suggested.pop_front();
        }
        self.suggested.push_back(piece);
    }

    /// Whether we allowed the peer `piece` while choked.
    pub(super) fn offered(&self, piece: PieceIndex) -> bool {
        self.allowed_out.contains(&piece)
    }
}

impl PeerState {
    /// The torrent's geometry this connection checks messages against.
    pub fn lengths(&self) -> &bt_proto::geometry::Lengths {
        &self.lengths
    }

    /// Pieces the peer allowed us to request while it chokes us, and that it has.
    pub fn allowed_fast(&self) -> Vec<PieceIndex> {
        self.fast
            .allowed_in
            .iter()
            .copied()
            .filter(|p| self.peer_pieces.has(p.as_usize()))
            .collect()
    }

    /// Whether `piece` may be requested while the peer chokes us.
    pub fn is_allowed_fast(&self, piece: PieceIndex) -> bool {
        self.fast.allowed_in.contains(&piece) && self.peer_pieces.has(piece.as_usize())
    }

    /// How many requests for allowed-fast pieces to send now: room in the pipeline while the
    /// peer chokes us, we are interested, and it allowed some piece it has. (Unchoked, see
    /// [`wanted_requests`](Self::wanted_requests).)
    pub fn wanted_fast_requests(&self, now: Instant) -> usize {
        if !self.peer_choking || !self.am_interested || self.allowed_fast().is_empty() {
            return 0;
        }
        self.pipeline
            .target(now, &self.config)
            .saturating_sub(self.pipeline.len())
    }

    /// Offers the peer these pieces (ours, from our allowed-fast set) while we choke it: the
    /// ALLOWED FAST messages to send, none without BEP 6 or for pieces offered already.
    pub fn offer_allowed_fast(
        &mut self,
        pieces: impl IntoIterator<Item = PieceIndex>,
    ) -> Vec<PeerMessage> {
        if !self.negotiated.fast {
            return Vec::new();
        }
        let mut messages = Vec::new();
        for piece in pieces {
            if !self.fast.allowed_out.contains(&piece) {
                self.fast.allowed_out.push(piece);
                messages.push(PeerMessage::AllowedFast { piece: piece.get() });
            }
        }
        messages
    }

    /// The peer's suggestions not used yet, oldest first; each is handed out once.
    pub fn take_suggestions(&mut self) -> Vec<PieceIndex> {
        self.fast.suggested.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use bt_proto::geometry::Lengths;

    use super::*;

    #[test]
    fn what_a_peer_allows_and_suggests_is_capped() {
        let lengths = Lengths::new(1000 * 16_384, 16_384).expect("geometry");
        let mut sets = FastSets::default();
        for piece in lengths.pieces() {
            sets.note_allowed(piece);
            sets.note_suggested(piece);
        }
        assert_eq!(sets.allowed_in.len(), MAX_ALLOWED_FAST);
        assert_eq!(sets.suggested.len(), MAX_SUGGESTED);
        // The newest suggestions are kept.
        assert_eq!(sets.suggested.back().map(|p| p.get()), Some(999));
    }
}
