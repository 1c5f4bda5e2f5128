//! Unit tests of the picker: helpers and a full consistency check shared by the test files.
//!
//! - `ordering`: which pieces a pick chooses (rarest-first, tie-breaks, random first pieces,
//!   partial pieces, the cap, the other orders).
//! - `lifecycle`: requests, releases, endgame, hash results, interest and the wanted mask.
//! - `props`: random operation sequences checked against invariants and a recount.
//! - `within`: picks narrowed to a set of pieces (allowed fast, suggestions).

mod lifecycle;
mod ordering;
mod props;
mod within;

use std::collections::{BTreeMap, BTreeSet};

use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::{BLOCK_LEN, BlockRef, Lengths, PieceIndex};

use super::partial::BlockState;
use super::{PeerKey, PickerConfig, PiecePicker, StandardPicker};

/// Peer keys as plain numbers.
pub(super) fn peer(key: u64) -> PeerKey {
    PeerKey(key)
}

/// A torrent of `pieces` pieces of `blocks` full blocks each.
pub(super) fn lengths(pieces: u32, blocks: u32) -> Lengths {
    let piece_len = blocks * BLOCK_LEN;
    Lengths::new(u64::from(pieces) * u64::from(piece_len), piece_len).unwrap()
}

/// The default config without the random first pieces, so rarest-first shows from the start.
pub(super) fn rarest_config() -> PickerConfig {
    PickerConfig {
        random_first_pieces: 0,
        ..PickerConfig::default()
    }
}

/// A picker with nothing downloaded yet.
pub(super) fn picker(pieces: u32, blocks: u32, config: PickerConfig, seed: u64) -> StandardPicker {
    StandardPicker::new(
        lengths(pieces, blocks),
        Bitfield::new(pieces as usize),
        config,
        seed,
    )
    .unwrap()
}

/// A bitfield of `n` pieces with `set` set.
pub(super) fn bits(n: u32, set: impl IntoIterator<Item = u32>) -> Bitfield {
    let mut field = Bitfield::new(n as usize);
    for i in set {
        field.set(i as usize).unwrap();
    }
    field
}

/// The validated index `i` of the picker's torrent.
pub(super) fn piece(p: &StandardPicker, i: u32) -> PieceIndex {
    p.lengths().piece(i).unwrap()
}

/// The distinct pieces of a list of blocks.
pub(super) fn pieces_of(blocks: &[BlockRef]) -> BTreeSet<u32> {
    blocks.iter().map(|b| b.piece.get()).collect()
}

/// The peers each in-flight block is requested from (for endgame checks).
pub(super) fn requesters(p: &StandardPicker, block: &BlockRef) -> Vec<PeerKey> {
    let index = p.lengths.block_index(block).unwrap() as usize;
    match p.in_flight.get(&block.piece).map(|pp| &pp.blocks[index]) {
        Some(BlockState::Requested(peers)) => peers.clone(),
        _ => Vec::new(),
    }
}

/// Every block requested from `who`, as the picker records it.
pub(super) fn requests_of(p: &StandardPicker, who: PeerKey) -> Vec<BlockRef> {
    p.peers
        .get(&who)
        .map(|s| s.requests.iter().copied().collect())
        .unwrap_or_default()
}

/// Recomputes every derived structure from the stored bitfields and block states and compares.
pub(super) fn assert_consistent(p: &StandardPicker) {
    let n = p.have.len();
    let mut counts = vec![0u32; n];
    for state in p.peers.values() {
        for i in state.have.iter_ones() {
            counts[i] += 1;
        }
        let lacking = state.have.iter_ones().filter(|&i| p.wants(i)).count();
        assert_eq!(state.wanted_lacking, lacking, "interest count");
    }
    let own: Vec<bool> = (0..n).map(|i| p.have.has(i)).collect();
    let candidates: Vec<bool> = p
        .lengths
        .pieces()
        .map(|pc| p.should_be_candidate(pc))
        .collect();
    p.avail.assert_consistent(&counts, &own, &candidates);
    assert_eq!(p.have_count, p.have.count_ones());
    assert_eq!(p.missing, (0..n).filter(|&i| p.wants(i)).count());
    assert_requests_consistent(p);
}

/// Block states and the peers' request sets describe the same requests.
fn assert_requests_consistent(p: &StandardPicker) {
    let mut from_pieces: BTreeMap<PeerKey, BTreeSet<BlockRef>> = BTreeMap::new();
    for (&pc, partial) in &p.in_flight {
        assert!(
            p.wants(pc.as_usize()),
            "piece {pc} in flight but not wanted"
        );
        assert!(
            partial.free < partial.blocks.len(),
            "piece {pc} in flight but untouched"
        );
        let free = partial.blocks.iter().filter(|s| **s == BlockState::Free);
        assert_eq!(partial.free, free.count());
        let received = partial
            .blocks
            .iter()
            .filter(|s| matches!(s, BlockState::Received(_)));
        assert_eq!(partial.received, received.count());
        for (who, index) in partial.outstanding() {
            let block = p.lengths.block(pc, index).unwrap();
            assert!(from_pieces.entry(who).or_default().insert(block), "twice");
        }
    }
    for (who, state) in &p.peers {
        let recorded = from_pieces.remove(who).unwrap_or_default();
        assert_eq!(state.requests, recorded, "requests of {who:?}");
        if p.banned.contains(who) {
            assert!(state.requests.is_empty());
        }
    }
    assert!(from_pieces.is_empty(), "requests to unknown peers");
}

/// Receives every block of `blocks` from `who`; returns the pieces completed.
pub(super) fn receive_all(p: &mut StandardPicker, who: PeerKey, blocks: &[BlockRef]) -> Vec<u32> {
    blocks
        .iter()
        .filter_map(|b| p.block_received(who, b).piece_complete)
        .map(PieceIndex::get)
        .collect()
}
