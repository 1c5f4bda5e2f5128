//! Requests, releases, endgame, hash results, interest and the wanted mask.

use std::collections::BTreeSet;

use super::*;
use crate::picker::{BlockOutcome, PickerError};

#[test]
fn a_block_is_never_requested_twice_outside_endgame() {
    let mut p = picker(6, 4, rarest_config(), 2);
    for key in 1..=3 {
        p.peer_have_all(peer(key));
    }
    let mut seen = BTreeSet::new();
    for key in [1, 2, 3, 1, 2, 3] {
        assert!(!p.is_endgame());
        for block in p.pick_blocks(peer(key), 3) {
            assert!(seen.insert(block), "{block:?} requested twice");
        }
    }
    assert_eq!(seen.len(), 18);
    assert_consistent(&p);
}

#[test]
fn endgame_duplicates_blocks_and_returns_cancels() {
    let mut p = picker(2, 2, rarest_config(), 4);
    for key in 1..=4 {
        p.peer_have_all(peer(key));
    }
    let first = p.pick_blocks(peer(1), 10);
    assert_eq!(first.len(), 4);
    assert!(p.is_endgame());
    let second = p.pick_blocks(peer(2), 10);
    let third = p.pick_blocks(peer(3), 10);
    assert_eq!(pieces_of(&second).len(), 2);
    assert_eq!(second.len(), 4);
    assert_eq!(third.len(), 4);
    // Each block is now asked of three peers: the default allows two extra copies, no more.
    assert!(p.pick_blocks(peer(4), 10).is_empty());
    assert!(
        p.pick_blocks(peer(1), 10).is_empty(),
        "never twice to the same peer"
    );

    let block = first[0];
    assert_eq!(requesters(&p, &block), [peer(1), peer(2), peer(3)]);
    let arrival = p.block_received(peer(2), &block);
    assert_eq!(arrival.outcome, BlockOutcome::New);
    assert_eq!(arrival.cancels, [(peer(1), block), (peer(3), block)]);
    assert_eq!(arrival.piece_complete, None);
    let late = p.block_received(peer(1), &block);
    assert_eq!(late.outcome, BlockOutcome::Duplicate);
    assert!(late.cancels.is_empty());
    assert_eq!(requests_of(&p, peer(1)).len(), 3);
    // A fourth peer may now copy the blocks still outstanding, not the received one.
    p.peer_disconnected(peer(3));
    let fourth = p.pick_blocks(peer(4), 10);
    assert_eq!(fourth.len(), 3);
    assert!(!fourth.contains(&block));

    let sibling = first
        .iter()
        .find(|b| b.piece == block.piece && **b != block);
    let done = p.block_received(peer(4), sibling.unwrap());
    assert_eq!(done.piece_complete, Some(block.piece));
    assert_eq!(done.cancels.len(), 2);
    assert_consistent(&p);
}

#[test]
fn endgame_waits_while_a_piece_can_still_be_started() {
    let mut p = picker(3, 1, rarest_config(), 4);
    p.peer_have_all(peer(1));
    p.peer_bitfield(peer(2), bits(3, [0])).unwrap();
    let got = p.pick_blocks(peer(2), 5);
    assert_eq!(pieces_of(&got), BTreeSet::from([0]));
    assert!(!p.is_endgame(), "pieces 1 and 2 are still to start");
    assert_eq!(
        pieces_of(&p.pick_blocks(peer(1), 2)),
        BTreeSet::from([1, 2])
    );
    assert!(p.is_endgame());
    assert_eq!(pieces_of(&p.pick_blocks(peer(1), 5)), BTreeSet::from([0]));
}

#[test]
fn choke_and_timeout_release_requests() {
    let mut p = picker(2, 4, rarest_config(), 0);
    p.peer_have_all(peer(1));
    p.peer_have_all(peer(2));
    let asked = p.pick_blocks(peer(1), 4);
    assert_eq!(asked.len(), 4);
    p.peer_choked(peer(1));
    assert!(requests_of(&p, peer(1)).is_empty());
    let moved = p.pick_blocks(peer(2), 4);
    assert_eq!(moved, asked, "released blocks go to another peer");
    assert!(!p.is_endgame());

    p.request_released(peer(2), &moved[1]);
    p.request_released(peer(2), &moved[1]);
    assert_eq!(p.pick_blocks(peer(1), 1), [moved[1]]);
    // The timed-out copy arrives after all: still needed, and peer 1's request is cancelled.
    let late = p.block_received(peer(2), &moved[1]);
    assert_eq!(late.outcome, BlockOutcome::New);
    assert_eq!(late.cancels, [(peer(1), moved[1])]);
    assert_consistent(&p);
}

#[test]
fn disconnect_releases_requests_and_availability() {
    let mut p = picker(4, 2, rarest_config(), 0);
    p.peer_have_all(peer(1));
    p.peer_bitfield(peer(2), bits(4, [1, 2])).unwrap();
    assert_eq!(p.availability(piece(&p, 1)), 2);
    assert_eq!(p.rarest_availability(), 1);
    assert_eq!(
        pieces_of(&p.pick_blocks(peer(2), 4)),
        BTreeSet::from([1, 2])
    );
    p.peer_disconnected(peer(2));
    assert_eq!(p.availability(piece(&p, 1)), 1);
    assert!(
        p.in_flight_pieces().is_empty(),
        "untouched pieces are un-started"
    );
    let again = p.pick_blocks(peer(1), 4);
    assert_eq!(again.len(), 4);
    assert_eq!(requests_of(&p, peer(1)).len(), 4);
    p.peer_disconnected(peer(1));
    assert_eq!(p.rarest_availability(), 0);
    assert!(
        p.pick_blocks(peer(1), 4).is_empty(),
        "forgotten peers get nothing"
    );
    assert_consistent(&p);
}

#[test]
fn rarest_availability_counts_our_own_copy() {
    let lengths = lengths(3, 1);
    let p = StandardPicker::new(lengths, bits(3, [0, 1, 2]), rarest_config(), 0).unwrap();
    assert_eq!(p.rarest_availability(), 1);
    assert!(p.is_complete());
    assert_eq!(p.missing_count(), 0);
    let wrong = StandardPicker::new(lengths, bits(4, []), rarest_config(), 0);
    assert!(matches!(wrong, Err(PickerError::BitfieldLength { .. })));
}

/// Downloads the single piece of a 2-block torrent, block 0 from peer 1 and block 1 from peer 2.
fn download_from_both(p: &mut StandardPicker) -> PieceIndex {
    let a = p.pick_blocks(peer(1), 1);
    let b = p.pick_blocks(peer(2), 1);
    assert_eq!(receive_all(p, peer(1), &a), []);
    assert_eq!(receive_all(p, peer(2), &b), [0]);
    piece(p, 0)
}

#[test]
fn hash_failure_redownloads_and_bans_contributors_after_three_strikes() {
    let mut p = picker(1, 2, rarest_config(), 0);
    for key in 1..=3 {
        p.peer_have_all(peer(key));
    }
    for _ in 0..2 {
        let done = download_from_both(&mut p);
        assert!(p.piece_failed(done).is_empty());
        assert!(p.in_flight_pieces().is_empty());
        assert!(!p.have().has(0));
        assert_consistent(&p);
    }
    let again = p.pick_blocks(peer(3), 1);
    assert_eq!(again[0].offset, 0, "the piece starts over from scratch");
    p.request_released(peer(3), &again[0]);
    let done = download_from_both(&mut p);
    let _ = p.pick_blocks(peer(3), 1);
    assert_eq!(p.piece_contributors(done), [peer(1), peer(2)]);
    assert_eq!(p.piece_failed(done), [peer(1), peer(2)]);
    assert!(
        p.piece_contributors(done).is_empty(),
        "forgotten with the piece"
    );
    assert!(p.is_banned(peer(1)) && p.is_banned(peer(2)) && !p.is_banned(peer(3)));
    assert!(p.pick_blocks(peer(1), 2).is_empty());

    let from_3 = p.pick_blocks(peer(3), 2);
    assert_eq!(from_3.len(), 2);
    let unwanted = p.block_received(peer(1), &from_3[0]);
    assert_eq!(unwanted.outcome, BlockOutcome::Unrequested);
    assert_eq!(receive_all(&mut p, peer(3), &from_3), [0]);
    assert!(p.piece_verified(done));
    assert!(!p.piece_verified(done), "reported once");
    assert!(p.is_complete());
    assert_consistent(&p);
}

#[test]
fn the_wanted_mask_limits_picks_and_interest() {
    let mut p = picker(10, 2, rarest_config(), 0);
    p.peer_have_all(peer(1));
    p.peer_bitfield(peer(2), bits(10, [7])).unwrap();
    let early = p.pick_blocks(peer(2), 1);
    assert_eq!(pieces_of(&early), BTreeSet::from([7]));
    let cancels = p.set_wanted(bits(10, [2, 5])).unwrap();
    assert_eq!(cancels, [(peer(2), early[0])]);
    assert_eq!(p.missing_count(), 2);
    assert!(!p.is_interesting(peer(2)));
    assert!(p.pick_blocks(peer(2), 4).is_empty());
    let blocks = p.pick_blocks(peer(1), 10);
    assert_eq!(pieces_of(&blocks), BTreeSet::from([2, 5]));
    for done in receive_all(&mut p, peer(1), &blocks) {
        p.piece_verified(piece(&p, done));
    }
    assert!(p.is_complete() && !p.have().is_complete());
    assert!(!p.is_interesting(peer(1)));
    assert!(p.set_wanted(bits(3, [])).is_err());
    assert_consistent(&p);
}

#[test]
fn interest_follows_haves_and_our_verified_pieces() {
    let mut p = picker(4, 1, rarest_config(), 0);
    p.peer_bitfield(peer(1), bits(4, [1])).unwrap();
    p.peer_have_none(peer(2));
    assert!(p.is_interesting(peer(1)) && !p.is_interesting(peer(2)));
    assert_eq!(p.take_interest_changes(), [(peer(1), true)]);
    assert!(p.take_interest_changes().is_empty());

    let blocks = p.pick_blocks(peer(1), 1);
    receive_all(&mut p, peer(1), &blocks);
    assert!(p.piece_verified(piece(&p, 1)));
    assert!(!p.is_interesting(peer(1)));
    assert_eq!(p.take_interest_changes(), [(peer(1), false)]);

    p.peer_have(peer(1), 1).unwrap();
    assert!(!p.is_interesting(peer(1)), "we have that one");
    p.peer_have(peer(2), 3).unwrap();
    p.peer_have(peer(1), 2).unwrap();
    assert_eq!(
        p.take_interest_changes(),
        [(peer(1), true), (peer(2), true)]
    );
    assert_eq!(
        p.peer_have(peer(1), 4),
        Err(PickerError::PieceOutOfRange { index: 4, count: 4 })
    );
    assert!(p.peer_bitfield(peer(1), bits(5, [])).is_err());
    assert_consistent(&p);
}

#[test]
fn unknown_and_foreign_blocks_are_unrequested() {
    let mut p = picker(2, 2, rarest_config(), 0);
    p.peer_have_all(peer(1));
    let lone = p.lengths().block(piece(&p, 1), 0).unwrap();
    assert_eq!(
        p.block_received(peer(9), &lone).outcome,
        BlockOutcome::Unrequested
    );
    let blocks = p.pick_blocks(peer(1), 1);
    let crooked = BlockRef {
        len: 5,
        ..blocks[0]
    };
    assert_eq!(
        p.block_received(peer(1), &crooked).outcome,
        BlockOutcome::Unrequested
    );
    p.request_released(peer(9), &blocks[0]);
    assert!(p.piece_failed(piece(&p, 1)).is_empty() || p.in_flight_pieces().is_empty());
    assert_consistent(&p);
}

#[test]
fn a_large_torrent_with_many_peers_stays_consistent() {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    let pieces = 100_000u32;
    let mut p = picker(pieces, 16, PickerConfig::default(), 1);
    let mut rng = StdRng::seed_from_u64(99);
    for key in 0..50 {
        // Each byte ANDs 0 to 2 random bytes: peers from about 1/8 to all of the pieces.
        let mut bytes = vec![0xffu8; Bitfield::byte_len_for(pieces as usize)];
        for _ in 0..key % 4 {
            bytes.iter_mut().for_each(|b| *b &= rng.random::<u8>());
        }
        p.peer_bitfield(
            peer(key),
            Bitfield::from_bytes(&bytes, pieces as usize).unwrap(),
        )
        .unwrap();
    }
    for round in 0..500u64 {
        let who = peer(round % 50);
        let blocks = p.pick_blocks(who, 32);
        assert!(!blocks.is_empty());
        for done in receive_all(&mut p, who, &blocks) {
            p.piece_verified(piece(&p, done));
        }
    }
    assert!(p.have().count_ones() > 100);
    assert_consistent(&p);
}
