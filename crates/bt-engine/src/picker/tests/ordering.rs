//! Which pieces a pick chooses.

use std::collections::BTreeSet;

use super::*;
use crate::picker::PieceOrder;

#[test]
fn the_rarest_piece_is_chosen_first() {
    let mut p = picker(10, 1, rarest_config(), 7);
    p.peer_have_all(peer(1));
    p.peer_bitfield(peer(2), bits(10, (0..10).filter(|&i| i != 6)))
        .unwrap();
    p.peer_bitfield(peer(3), bits(10, (0..10).filter(|&i| i != 6 && i != 2)))
        .unwrap();
    assert_eq!(p.availability(piece(&p, 6)), 1);
    assert_eq!(p.availability(piece(&p, 2)), 2);

    let first = p.pick_blocks(peer(1), 1);
    let second = p.pick_blocks(peer(1), 1);
    assert_eq!(pieces_of(&first), BTreeSet::from([6]));
    assert_eq!(pieces_of(&second), BTreeSet::from([2]));
    // Peer 3 has neither: it gets one of the equally common rest.
    let third = pieces_of(&p.pick_blocks(peer(3), 1));
    assert!(third.is_disjoint(&BTreeSet::from([2, 6])));
    assert_consistent(&p);
}

/// The pieces a lone seed's first `picks` single-block requests go to, for one picker seed.
fn first_picks(seed: u64, picks: usize) -> Vec<u32> {
    let mut p = picker(64, 1, rarest_config(), seed);
    p.peer_have_all(peer(1));
    (0..picks)
        .flat_map(|_| p.pick_blocks(peer(1), 1))
        .map(|b| b.piece.get())
        .collect()
}

#[test]
fn ties_are_broken_at_random_but_reproducibly() {
    let runs: Vec<Vec<u32>> = (0..20).map(|seed| first_picks(seed, 10)).collect();
    let firsts: BTreeSet<u32> = runs.iter().map(|run| run[0]).collect();
    assert!(firsts.len() > 5, "first picks across seeds: {firsts:?}");
    for (seed, run) in (0..).zip(&runs) {
        assert_eq!(
            &first_picks(seed, 10),
            run,
            "seed {seed} is not reproducible"
        );
        let distinct: BTreeSet<u32> = run.iter().copied().collect();
        assert_eq!(distinct.len(), 10);
    }
}

#[test]
fn the_first_pieces_are_random_then_rarest_first_takes_over() {
    let config = PickerConfig::default();
    assert_eq!(config.random_first_pieces, 4);
    let mut first_choices = BTreeSet::new();
    for seed in 0..20 {
        let mut p = picker(32, 1, config.clone(), seed);
        p.peer_have_all(peer(1));
        p.peer_bitfield(peer(2), bits(32, (0..32).filter(|&i| i != 5)))
            .unwrap();
        for round in 0..4 {
            let blocks = p.pick_blocks(peer(1), 1);
            if round == 0 {
                first_choices.insert(blocks[0].piece.get());
            }
            for done in receive_all(&mut p, peer(1), &blocks) {
                assert!(p.piece_verified(piece(&p, done)));
            }
        }
        assert_eq!(p.have().count_ones(), 4);
        if !p.have().has(5) {
            let next = p.pick_blocks(peer(1), 1);
            assert_eq!(pieces_of(&next), BTreeSet::from([5]), "seed {seed}");
        }
    }
    assert!(first_choices.len() > 5, "{first_choices:?}");
}

#[test]
fn partial_pieces_are_finished_before_rarer_new_ones() {
    let mut p = picker(8, 4, rarest_config(), 3);
    p.peer_have_all(peer(1));
    p.peer_have_all(peer(2));
    let started = p.pick_blocks(peer(1), 2);
    let partial = started[0].piece.get();
    assert_eq!(pieces_of(&started).len(), 1);
    // Another piece becomes rarer than the partial one.
    let rare = (partial + 1) % 8;
    for i in (0..8).filter(|&i| i != rare) {
        p.peer_have(peer(3), i).unwrap();
    }
    let next = p.pick_blocks(peer(2), 2);
    assert_eq!(pieces_of(&next), BTreeSet::from([partial]));
    assert_eq!(
        next.iter()
            .map(|b| b.offset / BLOCK_LEN)
            .collect::<Vec<_>>(),
        [2, 3]
    );
    // With the partial piece fully requested, the rarer piece comes next.
    assert_eq!(
        pieces_of(&p.pick_blocks(peer(2), 1)),
        BTreeSet::from([rare])
    );
    assert_consistent(&p);
}

#[test]
fn a_peer_continues_its_own_partial_piece_first() {
    let mut p = picker(3, 4, rarest_config(), 1);
    p.peer_have_all(peer(1));
    p.peer_bitfield(peer(2), bits(3, [1])).unwrap();
    let own = p.pick_blocks(peer(1), 1)[0].piece.get();
    assert_ne!(own, 1, "pieces 0 and 2 are rarer");
    let other = p.pick_blocks(peer(2), 3);
    assert_eq!(pieces_of(&other), BTreeSet::from([1]));
    // Piece 1 has fewer free blocks, but peer 1 was working on its own piece.
    let next = p.pick_blocks(peer(1), 1);
    assert_eq!(pieces_of(&next), BTreeSet::from([own]));
}

#[test]
fn the_cap_on_pieces_in_flight_is_respected() {
    let config = PickerConfig {
        max_pieces_in_flight: 2,
        min_blocks_in_flight: 0,
        ..rarest_config()
    };
    let mut p = picker(10, 4, config, 5);
    p.peer_have_all(peer(1));
    p.peer_have_all(peer(2));
    let blocks = p.pick_blocks(peer(1), 100);
    assert_eq!(blocks.len(), 8);
    assert_eq!(pieces_of(&blocks).len(), 2);
    assert_eq!(p.in_flight_pieces().len(), 2);
    assert!(p.pick_blocks(peer(2), 100).is_empty());
    assert!(!p.is_endgame(), "pieces remain to start");
    // A complete piece awaiting its hash check still counts.
    let done = receive_all(&mut p, peer(1), &blocks[..4]);
    assert_eq!(done.len(), 1);
    assert!(p.pick_blocks(peer(2), 100).is_empty());
    p.piece_verified(piece(&p, done[0]));
    let more = p.pick_blocks(peer(2), 100);
    assert_eq!(more.len(), 4);
    assert_eq!(p.in_flight_pieces().len(), 2);
    assert_consistent(&p);
}

#[test]
fn short_pieces_may_exceed_the_piece_cap_up_to_the_blocks_floor() {
    let config = PickerConfig::default();
    assert_eq!(
        (config.max_pieces_in_flight, config.min_blocks_in_flight),
        (32, 512)
    );
    // One block a piece (16 KiB): 512 pieces; four (64 KiB): 128; from 16 (256 KiB) on,
    // the plain cap.
    assert_eq!(config.piece_cap(1), 512);
    assert_eq!(config.piece_cap(4), 128);
    assert_eq!(config.piece_cap(3), 171, "rounded up");
    assert_eq!(config.piece_cap(16), 32);
    assert_eq!(config.piece_cap(64), 32);
    let exact = PickerConfig {
        min_blocks_in_flight: 0,
        ..config
    };
    assert_eq!(exact.piece_cap(1), 32);
}

/// With pieces of one block, the cap on pieces in flight is a cap on requests: at 32 it left
/// a fast peer 32 requests outstanding for the whole torrent (on loopback, 16 KiB pieces
/// moved at about two thirds of the speed they reach with 512). A pick now fills a
/// connection's whole pipeline.
#[test]
fn one_block_pieces_leave_room_for_a_full_pipeline() {
    let mut p = picker(2_000, 1, rarest_config(), 3);
    assert_eq!(p.piece_cap(), 512);
    p.peer_have_all(peer(1));
    let blocks = p.pick_blocks(peer(1), 512);
    assert_eq!(blocks.len(), 512, "one connection's max_requests");
    assert_eq!(pieces_of(&blocks).len(), 512);
    assert!(p.pick_blocks(peer(1), 512).is_empty(), "at the cap");
    // Every piece in flight counts until verified; one verified makes room for one more.
    let done = receive_all(&mut p, peer(1), &blocks[..1]);
    p.piece_verified(piece(&p, done[0]));
    assert_eq!(p.pick_blocks(peer(1), 512).len(), 1);
    assert_consistent(&p);
    // Pieces of 16 blocks or more keep the plain cap of 32 pieces.
    let mut p = picker(100, 16, rarest_config(), 3);
    p.peer_have_all(peer(1));
    assert_eq!(p.pick_blocks(peer(1), 10_000).len(), 32 * 16);
    assert_eq!(p.in_flight_pieces().len(), 32);
}

#[test]
fn sequential_order_goes_by_index() {
    let config = PickerConfig {
        order: PieceOrder::Sequential,
        ..PickerConfig::default()
    };
    let mut p = picker(12, 2, config, 9);
    p.peer_bitfield(peer(1), bits(12, (0..12).filter(|&i| i != 3)))
        .unwrap();
    let blocks = p.pick_blocks(peer(1), 7);
    let order: Vec<u32> = blocks.iter().map(|b| b.piece.get()).collect();
    assert_eq!(order, [0, 0, 1, 1, 2, 2, 4]);
    p.peer_have(peer(2), 3).unwrap();
    // Peer 2 has only piece 3; peer 1 then finishes piece 4 before starting 5.
    assert_eq!(pieces_of(&p.pick_blocks(peer(2), 5)), BTreeSet::from([3]));
    let next: Vec<u32> = p
        .pick_blocks(peer(1), 3)
        .iter()
        .map(|b| b.piece.get())
        .collect();
    assert_eq!(next, [4, 5, 5]);
    assert_eq!(p.name(), "sequential");
}

/// The order in which a random-order picker starts all 16 pieces.
fn random_order(seed: u64) -> Vec<u32> {
    let config = PickerConfig {
        order: PieceOrder::Random,
        ..PickerConfig::default()
    };
    let mut p = picker(16, 1, config, seed);
    p.peer_have_all(peer(1));
    // Make piece 0 the rarest: the random order must ignore it.
    p.peer_bitfield(peer(2), bits(16, 1..16)).unwrap();
    (0..16)
        .flat_map(|_| p.pick_blocks(peer(1), 1))
        .map(|b| b.piece.get())
        .collect()
}

#[test]
fn random_order_is_a_seeded_shuffle() {
    let runs: Vec<Vec<u32>> = (0..10).map(random_order).collect();
    for (seed, run) in (0..).zip(&runs) {
        let mut sorted = run.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..16).collect::<Vec<_>>(), "a permutation");
        assert_eq!(&random_order(seed), run, "reproducible");
    }
    let distinct: BTreeSet<&Vec<u32>> = runs.iter().collect();
    assert!(distinct.len() > 5);
    assert!(runs.iter().any(|run| run[0] != 0), "not rarest-first");
    assert!(runs.iter().all(|run| run.windows(2).any(|w| w[0] > w[1])));
}

#[test]
fn stalled_and_untouched_pieces_do_not_hold_the_cap() {
    let config = PickerConfig {
        max_pieces_in_flight: 1,
        min_blocks_in_flight: 0,
        ..rarest_config()
    };
    let mut p = picker(4, 4, config, 0);
    p.peer_bitfield(peer(1), bits(4, [0])).unwrap();
    p.peer_bitfield(peer(2), bits(4, 1..4)).unwrap();
    // Released before any block came: the piece is un-started.
    p.pick_blocks(peer(1), 1);
    p.peer_choked(peer(1));
    assert!(p.in_flight_pieces().is_empty());
    // Half received, then its only source leaves: stalled, and the cap lets peer 2 work.
    let half = p.pick_blocks(peer(1), 2);
    assert_eq!(receive_all(&mut p, peer(1), &half[..1]), []);
    p.peer_disconnected(peer(1));
    assert_eq!(p.in_flight_pieces(), [piece(&p, 0)]);
    let work = p.pick_blocks(peer(2), 4);
    assert_eq!(work.len(), 4);
    assert_eq!(pieces_of(&work).len(), 1);
    assert!(p.pick_blocks(peer(2), 4).is_empty(), "now at the cap");
    // The stalled piece continues where it stopped once a source returns.
    p.peer_have(peer(3), 0).unwrap();
    let rest = p.pick_blocks(peer(3), 4);
    assert_eq!(rest.len(), 3);
    assert_consistent(&p);
}
