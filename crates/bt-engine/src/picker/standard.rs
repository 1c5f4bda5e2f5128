//! [`StandardPicker`]: the default [`PiecePicker`], with the piece order taken from its config.
//!
//! This file holds the state and the trait's wiring; the work is in `events.rs` (peers and
//! interest), `pick.rs` (choosing blocks) and `hashing.rs` (arrivals and hash results).

use std::collections::{BTreeMap, BTreeSet};

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BLOCK_LEN, BlockRef, Lengths, PieceIndex};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::availability::Availability;
use super::partial::PartialPiece;
use super::{BlockReceived, PeerKey, PickerConfig, PickerError, PieceOrder, PiecePicker};

/// The default piece picker: rarest-first (or the configured order) over shared bookkeeping.
/// See the module docs of [`picker`](super) for its policies and costs.
#[derive(Debug)]
pub struct StandardPicker {
    /// The torrent's geometry: validates peers' indices and cuts pieces into blocks.
    pub(super) lengths: Lengths,
    pub(super) config: PickerConfig,
    /// Seeded, so that tie-breaks and random orders are reproducible.
    pub(super) rng: StdRng,
    /// Verified pieces: what we announce, and what we never pick.
    pub(super) have: Bitfield,
    /// `have.count_ones()`, kept to decide the random-first phase in O(1).
    pub(super) have_count: usize,
    /// The selective-download mask; pieces outside it are never started.
    pub(super) wanted: Bitfield,
    /// Wanted pieces we lack, kept for O(1) progress queries.
    pub(super) missing: usize,
    /// Availability counts and the candidate buckets derived from the peers' bitfields.
    pub(super) avail: Availability,
    /// Ordered maps keep every iteration, and so every decision, reproducible for a seed.
    pub(super) peers: BTreeMap<PeerKey, PeerState>,
    /// Started pieces, until verified, failed, abandoned or un-started; bounded by the cap.
    pub(super) in_flight: BTreeMap<PieceIndex, PartialPiece>,
    /// Failed pieces contributed to, per peer; kept after a disconnect.
    pub(super) strikes: BTreeMap<PeerKey, u32>,
    /// Peers that reached the strike limit: they get no work and their blocks are refused.
    pub(super) banned: BTreeSet<PeerKey>,
}

/// What the picker knows of one connected peer.
#[derive(Debug, Clone)]
pub(super) struct PeerState {
    /// The pieces the peer announced.
    pub(super) have: Bitfield,
    /// Blocks requested from it and not yet received or released.
    pub(super) requests: BTreeSet<BlockRef>,
    /// Pieces it has that we want and lack: interesting while non-zero, so a HAVE or a verified
    /// piece updates interest in O(1).
    pub(super) wanted_lacking: usize,
    /// The interest last returned by `take_interest_changes`.
    pub(super) reported_interest: bool,
}

impl PeerState {
    /// A peer that has announced nothing yet.
    pub(super) fn new(piece_count: usize) -> Self {
        Self {
            have: Bitfield::new(piece_count),
            requests: BTreeSet::new(),
            wanted_lacking: 0,
            reported_interest: false,
        }
    }
}

impl StandardPicker {
    /// A picker for a torrent of `lengths` where we already have `have` (from the resume check),
    /// wanting every piece; its random choices come from `seed`.
    pub fn new(
        lengths: Lengths,
        have: Bitfield,
        config: PickerConfig,
        seed: u64,
    ) -> Result<Self, PickerError> {
        let piece_count = lengths.piece_count() as usize;
        check_len(&have, piece_count)?;
        let mut avail = Availability::new(lengths);
        for piece in lengths.pieces() {
            if have.has(piece.as_usize()) {
                avail.add_own_copy(piece);
            } else {
                avail.insert_candidate(piece);
            }
        }
        Ok(Self {
            lengths,
            config,
            rng: StdRng::seed_from_u64(seed),
            have_count: have.count_ones(),
            missing: have.count_zeros(),
            have,
            wanted: Bitfield::full(piece_count),
            avail,
            peers: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            strikes: BTreeMap::new(),
            banned: BTreeSet::new(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &PickerConfig {
        &self.config
    }

    /// The torrent's geometry.
    pub fn lengths(&self) -> &Lengths {
        &self.lengths
    }

    /// The most pieces in flight for this torrent's piece length
    /// ([`PickerConfig::piece_cap`]).
    pub fn piece_cap(&self) -> usize {
        let blocks_per_piece = self.lengths.default_piece_len().div_ceil(BLOCK_LEN);
        self.config.piece_cap(blocks_per_piece)
    }

    /// Whether we want the piece and lack it.
    pub(super) fn wants(&self, index: usize) -> bool {
        self.wanted.has(index) && !self.have.has(index)
    }

    /// Whether a piece we want and lack is not started, so it belongs among the candidates.
    pub(super) fn should_be_candidate(&self, piece: PieceIndex) -> bool {
        self.wants(piece.as_usize()) && !self.in_flight.contains_key(&piece)
    }
}

/// Checks that a bitfield is sized for the torrent.
pub(super) fn check_len(bitfield: &Bitfield, piece_count: usize) -> Result<(), PickerError> {
    if bitfield.len() == piece_count {
        Ok(())
    } else {
        Err(PickerError::BitfieldLength {
            expected: piece_count,
            actual: bitfield.len(),
        })
    }
}

impl PiecePicker for StandardPicker {
    fn peer_bitfield(&mut self, peer: PeerKey, bitfield: Bitfield) -> Result<(), PickerError> {
        check_len(&bitfield, self.have.len())?;
        self.replace_bitfield(peer, bitfield);
        Ok(())
    }

    fn peer_have_all(&mut self, peer: PeerKey) {
        self.replace_bitfield(peer, Bitfield::full(self.have.len()));
    }

    fn peer_have_none(&mut self, peer: PeerKey) {
        self.replace_bitfield(peer, Bitfield::new(self.have.len()));
    }

    fn peer_have(&mut self, peer: PeerKey, piece: u32) -> Result<(), PickerError> {
        let index = self
            .lengths
            .piece(piece)
            .ok_or(PickerError::PieceOutOfRange {
                index: piece,
                count: self.lengths.piece_count(),
            })?;
        self.add_have(peer, index);
        Ok(())
    }

    fn peer_disconnected(&mut self, peer: PeerKey) {
        self.remove_peer(peer);
    }

    fn peer_choked(&mut self, peer: PeerKey) {
        self.release_all(peer);
    }

    fn is_interesting(&self, peer: PeerKey) -> bool {
        self.peers.get(&peer).is_some_and(|p| p.wanted_lacking > 0)
    }

    fn take_interest_changes(&mut self) -> Vec<(PeerKey, bool)> {
        self.interest_changes()
    }

    fn set_wanted(&mut self, wanted: Bitfield) -> Result<Vec<(PeerKey, BlockRef)>, PickerError> {
        check_len(&wanted, self.have.len())?;
        Ok(self.replace_wanted(wanted))
    }

    fn pick_blocks(&mut self, peer: PeerKey, max: usize) -> Vec<BlockRef> {
        self.pick(peer, max)
    }

    fn pick_blocks_in(
        &mut self,
        peer: PeerKey,
        max: usize,
        pieces: &[PieceIndex],
        only: bool,
    ) -> Vec<BlockRef> {
        self.pick_in(peer, max, pieces, only)
    }

    fn block_received(&mut self, peer: PeerKey, block: &BlockRef) -> BlockReceived {
        self.receive(peer, block)
    }

    fn request_released(&mut self, peer: PeerKey, block: &BlockRef) {
        self.release(peer, block);
    }

    fn piece_verified(&mut self, piece: PieceIndex) -> bool {
        self.verified(piece)
    }

    fn piece_failed(&mut self, piece: PieceIndex) -> Vec<PeerKey> {
        self.failed(piece)
    }

    fn piece_contributors(&self, piece: PieceIndex) -> Vec<PeerKey> {
        self.in_flight
            .get(&piece)
            .map(|partial| partial.contributors().into_iter().collect())
            .unwrap_or_default()
    }

    fn is_banned(&self, peer: PeerKey) -> bool {
        self.banned.contains(&peer)
    }

    fn have(&self) -> &Bitfield {
        &self.have
    }

    fn wanted(&self) -> &Bitfield {
        &self.wanted
    }

    fn is_complete(&self) -> bool {
        self.missing == 0
    }

    fn missing_count(&self) -> usize {
        self.missing
    }

    fn availability(&self, piece: PieceIndex) -> u32 {
        self.avail.count(piece)
    }

    fn rarest_availability(&self) -> u32 {
        self.avail.rarest_copies()
    }

    fn in_flight_pieces(&self) -> Vec<PieceIndex> {
        self.in_flight.keys().copied().collect()
    }

    fn is_endgame(&self) -> bool {
        self.endgame()
    }

    fn name(&self) -> &'static str {
        match self.config.order {
            PieceOrder::RarestFirst => "rarest-first",
            PieceOrder::Random => "random",
            PieceOrder::Sequential => "sequential",
        }
    }
}
