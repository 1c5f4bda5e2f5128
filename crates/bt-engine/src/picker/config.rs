//! The picker's tunables and the swappable piece order.

/// The order in which the picker starts new pieces; everything else (finishing partial pieces
/// first, the cap on pieces in flight, endgame, strikes) is the same for every order, so an
/// experiment that swaps the order measures the order alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PieceOrder {
    /// The pieces fewest peers have come first, ties broken at random (BEP 3 practice, Cohen
    /// 2003): keeps every piece replicated, so the swarm survives the departure of seeds.
    #[default]
    RarestFirst,
    /// Uniformly shuffled: the baseline that shows what rarest-first buys.
    Random,
    /// Lowest index first, as a streaming client would: the worst case for piece diversity.
    Sequential,
}

/// How the picker chooses pieces and how hard it keeps memory and duplicates in check.
///
/// The defaults follow mainline and libtorrent; experiments change them freely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickerConfig {
    /// Which pieces to start when no partial piece can be continued.
    pub order: PieceOrder,
    /// Under [`PieceOrder::RarestFirst`], while we have fewer verified pieces than this, new
    /// pieces are drawn at random instead: a rare piece is slow to get (few peers to fetch it
    /// from), and a newcomer needs any complete piece quickly to have something to trade.
    /// The other orders ignore it (random already is; sequential must stay in order).
    pub random_first_pieces: usize,
    /// At most this many pieces are started and not yet verified or failed. Partial pieces hold
    /// buffers and bookkeeping downstream, so the cap bounds memory by configuration rather than
    /// by torrent size; a piece awaiting its hash check still counts, which lets a slow disk
    /// push back on the network. Short pieces may exceed it, up to
    /// [`Self::min_blocks_in_flight`] blocks: see [`Self::piece_cap`].
    pub max_pieces_in_flight: usize,
    /// The cap on pieces in flight never holds fewer blocks than this: with pieces of one
    /// 16 KiB block, 32 pieces would be 32 requests outstanding for every peer together,
    /// fewer than one connection's pipeline wants (up to `peer.max_requests`, 512), so the
    /// picker, not the link, would set the pace. The default, 512 blocks (8 MiB), is the
    /// memory of 32 pieces of 256 KiB, so pieces of 256 KiB or more keep the plain cap. 0
    /// makes [`Self::max_pieces_in_flight`] exact whatever the piece length.
    pub min_blocks_in_flight: usize,
    /// In endgame, how many extra peers may be asked for a block that is already requested:
    /// more copies finish the last pieces sooner at the price of wasted upload from the peers
    /// whose copies get cancelled.
    pub endgame_max_duplicates: usize,
    /// A peer is banned once this many pieces it contributed to have failed their hash check;
    /// 0 disables banning. More than one, because a peer that shared a piece with a liar gets a
    /// strike too (every contributor of a failed piece is struck).
    pub max_strikes: u32,
}

impl Default for PickerConfig {
    fn default() -> Self {
        Self {
            order: PieceOrder::RarestFirst,
            random_first_pieces: 4,
            max_pieces_in_flight: 32,
            min_blocks_in_flight: 512,
            endgame_max_duplicates: 2,
            max_strikes: 3,
        }
    }
}

impl PickerConfig {
    /// The most pieces in flight for pieces of `blocks_per_piece` blocks:
    /// [`Self::max_pieces_in_flight`], or as many pieces as hold
    /// [`Self::min_blocks_in_flight`] blocks if that is more.
    pub fn piece_cap(&self, blocks_per_piece: u32) -> usize {
        let blocks_per_piece = (blocks_per_piece as usize).max(1);
        self.max_pieces_in_flight
            .max(self.min_blocks_in_flight.div_ceil(blocks_per_piece))
    }
}
