//! Random operation sequences, checked after every step against a recount of the stored state
//! and against the promise that a block goes to one peer at a time outside endgame.

use proptest::prelude::*;

use super::*;
use crate::picker::PieceOrder;

const PEERS: u64 = 5;

/// One event an actor could feed the picker; indices pick among what exists at that moment.
#[derive(Debug, Clone)]
enum Op {
    Bitfield(u64, Vec<bool>),
    HaveAll(u64),
    HaveNone(u64),
    Have(u64, u32),
    Disconnect(u64),
    Choke(u64),
    Pick(u64, usize),
    Receive(u64, usize),
    Release(u64, usize),
    Verify(usize),
    Fail(usize),
    SetWanted(Vec<bool>),
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..PEERS;
    let mask = proptest::collection::vec(any::<bool>(), 0..16);
    prop_oneof![
        2 => (who.clone(), mask.clone()).prop_map(|(w, m)| Op::Bitfield(w, m)),
        1 => who.clone().prop_map(Op::HaveAll),
        1 => who.clone().prop_map(Op::HaveNone),
        3 => (who.clone(), 0u32..14).prop_map(|(w, i)| Op::Have(w, i)),
        1 => who.clone().prop_map(Op::Disconnect),
        1 => who.clone().prop_map(Op::Choke),
        6 => (who.clone(), 0usize..8).prop_map(|(w, n)| Op::Pick(w, n)),
        6 => (who.clone(), any::<usize>()).prop_map(|(w, n)| Op::Receive(w, n)),
        2 => (who, any::<usize>()).prop_map(|(w, n)| Op::Release(w, n)),
        2 => any::<usize>().prop_map(Op::Verify),
        1 => any::<usize>().prop_map(Op::Fail),
        1 => mask.prop_map(Op::SetWanted),
    ]
}

fn config() -> impl Strategy<Value = PickerConfig> {
    let order = prop_oneof![
        Just(PieceOrder::RarestFirst),
        Just(PieceOrder::Random),
        Just(PieceOrder::Sequential)
    ];
    (order, 0usize..3, 1usize..5, 0usize..9, 0usize..3, 0u32..4).prop_map(
        |(
            order,
            random_first_pieces,
            max_pieces_in_flight,
            min_blocks_in_flight,
            endgame_max_duplicates,
            max_strikes,
        )| {
            PickerConfig {
                order,
                random_first_pieces,
                max_pieces_in_flight,
                min_blocks_in_flight,
                endgame_max_duplicates,
                max_strikes,
            }
        },
    )
}

/// A bitfield of `n` pieces from the first `n` entries of `mask` (missing ones unset).
fn from_mask(n: usize, mask: &[bool]) -> Bitfield {
    let mut field = Bitfield::new(n);
    for (i, _) in mask.iter().enumerate().take(n).filter(|(_, on)| **on) {
        field.set(i).unwrap();
    }
    field
}

/// Applies a pick and checks what it returned.
fn check_pick(p: &mut StandardPicker, who: PeerKey, max: usize) {
    let before = requests_of(p, who);
    let banned = p.is_banned(who);
    let in_flight_before = p.in_flight_pieces();
    let blocks = p.pick_blocks(who, max);
    if p.in_flight_pieces()
        .iter()
        .any(|pc| !in_flight_before.contains(pc))
    {
        assert!(p.active_pieces() <= p.piece_cap(), "cap broken");
    }
    assert!(blocks.len() <= max);
    assert!(!banned || blocks.is_empty());
    let peer_have = p.peers.get(&who).map(|s| s.have.clone());
    for (i, block) in blocks.iter().enumerate() {
        assert!(!before.contains(block), "asked the same peer twice");
        assert!(!blocks[..i].contains(block));
        assert!(peer_have.as_ref().unwrap().has(block.piece.as_usize()));
        assert!(p.wants(block.piece.as_usize()));
        let asked = requesters(p, block);
        assert!(asked.contains(&who));
        if asked.len() > 1 {
            assert!(p.is_endgame(), "{block:?} duplicated outside endgame");
            assert!(asked.len() <= 1 + p.config().endgame_max_duplicates);
        }
    }
}

fn apply(p: &mut StandardPicker, op: Op, all_blocks: &[BlockRef]) {
    let n = p.have().len();
    match op {
        Op::Bitfield(w, mask) => p.peer_bitfield(peer(w), from_mask(n, &mask)).unwrap(),
        Op::HaveAll(w) => p.peer_have_all(peer(w)),
        Op::HaveNone(w) => p.peer_have_none(peer(w)),
        Op::Have(w, i) => assert_eq!(p.peer_have(peer(w), i).is_ok(), (i as usize) < n),
        Op::Disconnect(w) => p.peer_disconnected(peer(w)),
        Op::Choke(w) => p.peer_choked(peer(w)),
        Op::Pick(w, max) => check_pick(p, peer(w), max),
        Op::Receive(w, nth) => {
            let asked = requests_of(p, peer(w));
            let block = if asked.is_empty() {
                all_blocks[nth % all_blocks.len()]
            } else {
                asked[nth % asked.len()]
            };
            let answer = p.block_received(peer(w), &block);
            if let Some(done) = answer.piece_complete {
                assert_eq!(done, block.piece);
                assert!(p.in_flight[&done].is_complete());
            }
        }
        Op::Release(w, nth) => {
            let asked = requests_of(p, peer(w));
            if !asked.is_empty() {
                p.request_released(peer(w), &asked[nth % asked.len()]);
            }
        }
        Op::Verify(nth) | Op::Fail(nth) => {
            let complete: Vec<PieceIndex> = p
                .in_flight
                .iter()
                .filter(|(_, pp)| pp.is_complete())
                .map(|(pc, _)| *pc)
                .collect();
            if complete.is_empty() {
                return;
            }
            let done = complete[nth % complete.len()];
            if matches!(op, Op::Verify(_)) {
                assert!(p.piece_verified(done));
            } else {
                for banned in p.piece_failed(done) {
                    assert!(p.is_banned(banned));
                }
            }
        }
        Op::SetWanted(mask) => {
            p.set_wanted(from_mask(n, &mask)).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_operations_keep_the_bookkeeping_consistent(
        pieces in 1u32..12,
        blocks_per_piece in 1u32..4,
        last_len in 1u32..=3 * BLOCK_LEN,
        config in config(),
        seed: u64,
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let piece_len = blocks_per_piece * BLOCK_LEN;
        let last_len = last_len.min(piece_len);
        let total = u64::from(pieces - 1) * u64::from(piece_len) + u64::from(last_len);
        let lengths = Lengths::new(total, piece_len).unwrap();
        let mut p = StandardPicker::new(lengths, Bitfield::new(pieces as usize), config, seed)
            .unwrap();
        let all_blocks: Vec<BlockRef> = lengths.pieces().flat_map(|pc| lengths.blocks(pc)).collect();
        for op in ops {
            apply(&mut p, op, &all_blocks);
            assert_consistent(&p);
        }
    }
}
