//! Tests of [`TitForTat`], driven with a hand-made clock.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::choker::test_support::{apply, at, interested_peer, uninterested_peer};

fn keys(list: &[u64]) -> BTreeSet<PeerKey> {
    list.iter().copied().map(PeerKey).collect()
}

fn default_choker(seed: u64) -> TitForTat {
    TitForTat::new(ChokeConfig::default(), seed)
}

/// Peers 0..n, interested and choked, each with the given download rate.
fn peers_with_rates(rates: &[u64]) -> Vec<ChokePeer> {
    (0u64..)
        .zip(rates)
        .map(|(key, &rate)| interested_peer(key, rate))
        .collect()
}

#[test]
fn the_three_fastest_interested_peers_get_the_regular_slots() {
    let peers = peers_with_rates(&[10, 50, 30, 70, 20, 60]);
    let decision = default_choker(1).rechoke(&peers, TorrentMode::Leeching, at(5));

    assert_eq!(decision.regular, keys(&[3, 5, 1]));
    assert_eq!(
        decision.reason_for(PeerKey(3)),
        Some(&UnchokeReason::BestRate { rank: 0, rate: 70 })
    );
    assert_eq!(
        decision.reason_for(PeerKey(1)),
        Some(&UnchokeReason::BestRate { rank: 2, rate: 50 })
    );
    assert_eq!(decision.optimistic.len(), 1);
    assert!(decision.optimistic.is_subset(&keys(&[0, 2, 4])));
    assert_eq!(decision.reasons.len(), peers.len());
}

#[test]
fn seeding_ranks_by_upload_rate_instead_of_download_rate() {
    let mut peers = peers_with_rates(&[100, 90, 80, 0, 0, 0]);
    for (peer, upload) in peers.iter_mut().zip([0, 0, 0, 300, 200, 100]) {
        peer.upload_rate = upload;
    }
    let mut choker = default_choker(2);
    let seeding = choker.rechoke(&peers, TorrentMode::Seeding, at(5));
    assert_eq!(seeding.regular, keys(&[3, 4, 5]));
    let leeching = default_choker(2).rechoke(&peers, TorrentMode::Leeching, at(5));
    assert_eq!(leeching.regular, keys(&[0, 1, 2]));
}

#[test]
fn uninterested_peers_never_get_a_slot() {
    let peers = vec![
        uninterested_peer(0, 1_000),
        uninterested_peer(1, 900),
        interested_peer(2, 10),
        interested_peer(3, 5),
    ];
    let decision = default_choker(3).rechoke(&peers, TorrentMode::Leeching, at(5));
    assert_eq!(decision.regular, keys(&[2, 3]));
    assert!(decision.optimistic.is_empty(), "no interested peer is left");
    assert_eq!(
        decision.reason_for(PeerKey(0)),
        Some(&UnchokeReason::Choked(ChokeReason::NotInterested))
    );
}

#[test]
fn the_optimistic_peer_stays_for_its_interval_and_changes_after_it() {
    let mut peers = peers_with_rates(&[100, 90, 80, 0, 0, 0, 0, 0]);
    let mut choker = default_choker(4);
    let first = choker.rechoke(&peers, TorrentMode::Leeching, at(0));
    apply(&mut peers, &first);
    for secs in [10, 20, 29] {
        let decision = choker.rechoke(&peers, TorrentMode::Leeching, at(secs));
        assert_eq!(decision.optimistic, first.optimistic, "at {secs} s");
        apply(&mut peers, &decision);
    }
    let rotated = choker.rechoke(&peers, TorrentMode::Leeching, at(30));
    assert_eq!(rotated.optimistic.len(), 1);
    assert_ne!(rotated.optimistic, first.optimistic);
}

#[test]
fn a_new_peer_wins_the_optimistic_draw_about_three_times_as_often() {
    // Four old and four new peers, no regular slots, and every peer stays choked so each draw is
    // independent: a new peer has weight 3 of 16, an old one 1 of 16.
    let config = ChokeConfig {
        unchoke_slots: 0,
        ..ChokeConfig::default()
    };
    let interval = config.optimistic_interval;
    let mut choker = TitForTat::new(config, 5);
    let mut peers = peers_with_rates(&[0; 8]);
    let mut wins = [0u32; 8];
    let rotations = 4_000u64;
    for round in 0..rotations {
        let now = at(1_000) + interval * u32::try_from(round).expect("test: few rounds");
        for peer in &mut peers[4..] {
            peer.connected_at = now - Duration::from_secs(5);
        }
        let decision = choker.rechoke(&peers, TorrentMode::Leeching, now);
        for key in decision.optimistic {
            wins[usize::try_from(key.0).expect("test: small key")] += 1;
        }
    }
    let old: u32 = wins[..4].iter().sum();
    let new: u32 = wins[4..].iter().sum();
    assert_eq!(u64::from(old + new), rotations);
    let ratio = f64::from(new) / f64::from(old);
    assert!((2.5..3.6).contains(&ratio), "new/old = {ratio} ({wins:?})");
    assert!(wins.iter().all(|&count| count > 100), "{wins:?}");
}

#[test]
fn a_snubbed_peer_loses_its_regular_slot_while_leeching() {
    let config = ChokeConfig {
        optimistic_slots: 0,
        ..ChokeConfig::default()
    };
    let mut choker = TitForTat::new(config, 6);
    let mut peers = peers_with_rates(&[100, 90, 80, 10]);
    for peer in &mut peers[1..] {
        peer.last_block_received = Some(at(65));
    }
    peers[0].last_block_received = Some(at(5));

    let early = choker.rechoke(&peers, TorrentMode::Leeching, at(10));
    assert_eq!(early.regular, keys(&[0, 1, 2]));
    apply(&mut peers, &early);

    let late = choker.rechoke(&peers, TorrentMode::Leeching, at(70));
    assert_eq!(late.regular, keys(&[1, 2, 3]));
    assert_eq!(
        late.reason_for(PeerKey(0)),
        Some(&UnchokeReason::Choked(ChokeReason::Snubbed))
    );
    let seeding = choker.rechoke(&peers, TorrentMode::Seeding, at(70));
    assert!(
        seeding.regular.contains(&PeerKey(0)),
        "no snubbing while seeding"
    );
}

#[test]
fn a_snubbed_peer_can_still_win_the_optimistic_slot() {
    let mut peers = peers_with_rates(&[100, 90, 80, 500]);
    for peer in &mut peers[..3] {
        peer.last_block_received = Some(at(100));
    }
    let decision = default_choker(7).rechoke(&peers, TorrentMode::Leeching, at(100));
    assert_eq!(decision.regular, keys(&[0, 1, 2]));
    assert_eq!(decision.optimistic, keys(&[3]));
}

#[test]
fn fewer_peers_than_slots_are_all_unchoked() {
    let peers = peers_with_rates(&[0, 20]);
    let decision = default_choker(8).rechoke(&peers, TorrentMode::Leeching, at(1));
    assert_eq!(decision.regular, keys(&[0, 1]));
    assert!(decision.optimistic.is_empty());
    assert_eq!(
        decision.reason_for(PeerKey(1)),
        Some(&UnchokeReason::BestRate { rank: 0, rate: 20 })
    );
}

#[test]
fn empty_input_gives_an_empty_decision() {
    let mut choker = default_choker(9);
    let decision = choker.rechoke(&[], TorrentMode::Leeching, at(0));
    assert_eq!(decision, ChokeDecision::default());
    let later = choker.rechoke(
        &peers_with_rates(&[1, 2, 3, 4]),
        TorrentMode::Leeching,
        at(1),
    );
    assert_eq!(
        later.unchoked().len(),
        4,
        "the empty call left no stale timer"
    );
}

#[test]
fn the_optimistic_peer_is_never_counted_as_regular() {
    let mut rates = StdRng::seed_from_u64(10);
    let mut choker = default_choker(10);
    let mut peers = peers_with_rates(&[0; 12]);
    for round in 0..200u64 {
        for peer in &mut peers {
            peer.download_rate = rates.random_range(0..1_000);
            peer.interested = rates.random_bool(0.8);
        }
        let decision = choker.rechoke(&peers, TorrentMode::Leeching, at(round * 10));
        assert!(decision.regular.is_disjoint(&decision.optimistic));
        assert!(decision.regular.len() <= 3 && decision.optimistic.len() <= 1);
        assert_eq!(decision.reasons.len(), peers.len());
        apply(&mut peers, &decision);
    }
}

#[test]
fn a_fast_optimistic_peer_keeps_its_term_then_earns_a_regular_slot() {
    let mut peers = peers_with_rates(&[100, 90, 80, 0]);
    let mut choker = default_choker(11);
    let first = choker.rechoke(&peers, TorrentMode::Leeching, at(0));
    assert_eq!(first.optimistic, keys(&[3]));
    apply(&mut peers, &first);

    peers[3].download_rate = 1_000;
    let during = choker.rechoke(&peers, TorrentMode::Leeching, at(10));
    assert_eq!(during.regular, keys(&[0, 1, 2]));
    assert_eq!(during.optimistic, keys(&[3]));
    apply(&mut peers, &during);

    let after = choker.rechoke(&peers, TorrentMode::Leeching, at(30));
    assert_eq!(
        after.reason_for(PeerKey(3)),
        Some(&UnchokeReason::BestRate {
            rank: 0,
            rate: 1_000
        })
    );
    assert_eq!(
        after.optimistic,
        keys(&[2]),
        "the outranked peer falls back to it"
    );
}

#[test]
fn a_departed_or_uninterested_optimistic_peer_is_replaced_at_the_next_call() {
    let mut peers = peers_with_rates(&[100, 90, 80, 0, 0, 0]);
    let mut choker = default_choker(12);
    let first = choker.rechoke(&peers, TorrentMode::Leeching, at(0));
    apply(&mut peers, &first);
    let gone = *first.optimistic.first().expect("test: one optimistic peer");

    peers.retain(|peer| peer.key != gone);
    let after_leaving = choker.rechoke(&peers, TorrentMode::Leeching, at(5));
    assert_eq!(after_leaving.optimistic.len(), 1);
    assert!(!after_leaving.optimistic.contains(&gone));
    apply(&mut peers, &after_leaving);

    let bored = *after_leaving
        .optimistic
        .first()
        .expect("test: one optimistic peer");
    for peer in peers.iter_mut().filter(|peer| peer.key == bored) {
        peer.interested = false;
    }
    let after_losing_interest = choker.rechoke(&peers, TorrentMode::Leeching, at(6));
    assert_eq!(after_losing_interest.optimistic.len(), 1);
    assert!(!after_losing_interest.optimistic.contains(&bored));
}

#[test]
fn a_small_swarm_keeps_every_interested_peer_unchoked_across_rotations() {
    let mut peers = peers_with_rates(&[100, 90, 80, 70]);
    let mut choker = default_choker(13);
    for secs in (0..120).step_by(10) {
        for peer in &mut peers {
            peer.last_block_received = Some(at(secs));
        }
        let decision = choker.rechoke(&peers, TorrentMode::Leeching, at(secs));
        assert_eq!(decision.unchoked(), keys(&[0, 1, 2, 3]), "at {secs} s");
        apply(&mut peers, &decision);
    }
}

#[test]
fn the_same_seed_gives_the_same_decisions() {
    let run = |seed: u64| {
        let mut rates = StdRng::seed_from_u64(99);
        let mut choker = default_choker(seed);
        let mut peers = peers_with_rates(&[0; 20]);
        let mut decisions = Vec::new();
        for round in 0..100u64 {
            for peer in &mut peers {
                peer.download_rate = rates.random_range(0..4) * 100;
            }
            let decision = choker.rechoke(&peers, TorrentMode::Leeching, at(round * 10));
            apply(&mut peers, &decision);
            decisions.push(decision);
        }
        decisions
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43), "the seed should matter");
}

#[test]
fn equal_rates_keep_the_peers_already_unchoked() {
    let config = ChokeConfig {
        optimistic_slots: 0,
        ..ChokeConfig::default()
    };
    let mut choker = TitForTat::new(config, 14);
    let mut peers = peers_with_rates(&[0; 10]);
    let first = choker.rechoke(&peers, TorrentMode::Leeching, at(0));
    assert_eq!(first.regular.len(), 3);
    apply(&mut peers, &first);
    for secs in [10, 20, 30, 40, 50] {
        let decision = choker.rechoke(&peers, TorrentMode::Leeching, at(secs));
        assert_eq!(decision.regular, first.regular, "at {secs} s");
    }
}
