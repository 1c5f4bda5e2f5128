//! Routing-table tests: splitting, the 15-minute rule, replacement, closest nodes, refresh.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

const MINUTE: Duration = Duration::from_secs(60);

/// An id whose first two bytes are given (the rest zero); our own id is all zeros, so the
/// first set bit decides the bucket.
fn id(first: u8, second: u8) -> NodeId {
    let mut bytes = [0u8; 20];
    bytes[0] = first;
    bytes[1] = second;
    NodeId(bytes)
}

fn node(first: u8, second: u8) -> NodeInfo {
    NodeInfo {
        id: id(first, second),
        addr: SocketAddr::from(([10, 0, first, second], 6881)),
    }
}

fn table(now: Instant) -> RoutingTable {
    RoutingTable::new(NodeId([0; 20]), now)
}

/// A table whose bucket 0 (ids starting with a 1 bit) holds eight nodes and is no longer the
/// bucket that covers our id.
fn full_far_bucket(now: Instant) -> RoutingTable {
    let mut table = table(now);
    for n in 0..8 {
        assert_eq!(table.on_response(node(0x80, n), now), Insertion::Added);
    }
    // The ninth far node splits the only bucket (it covers our id too), then finds bucket 0
    // full of good nodes.
    assert_eq!(table.on_response(node(0x80, 99), now), Insertion::Full);
    assert_eq!(table.bucket_count(), 2);
    table
}

#[test]
fn the_bucket_covering_our_id_splits_and_others_do_not() {
    let now = Instant::now();
    let mut rng = StdRng::seed_from_u64(1);
    let own = NodeId::random(&mut rng);
    let mut table = RoutingTable::new(own, now);
    for n in 0..2000u32 {
        let info = NodeInfo {
            id: NodeId::random(&mut rng),
            addr: SocketAddr::from(([10, 0, 0, 1], (n % 60000 + 1) as u16)),
        };
        table.on_response(info, now);
    }
    assert!(table.bucket_count() > 5, "{} buckets", table.bucket_count());
    let last = table.bucket_count() - 1;
    for (depth, bucket) in table.buckets().iter().enumerate() {
        assert!(bucket.nodes.len() <= K);
        for entry in &bucket.nodes {
            let shared = own.common_prefix_len(&entry.info.id);
            if depth < last {
                assert_eq!(shared, depth);
            } else {
                assert!(shared >= depth);
            }
        }
    }
    // Random ids fill the shallow buckets: half of all ids land in bucket 0, which is full.
    assert_eq!(table.buckets()[0].nodes.len(), K);
    assert_eq!(table.len(), table.entries().count());
}

#[test]
fn a_full_bucket_of_good_nodes_drops_the_newcomer() {
    let now = Instant::now();
    let mut table = full_far_bucket(now);
    assert!(table.get(&id(0x80, 99)).is_none());
    assert!(!table.would_accept(&id(0x80, 98), now));
    // A node close to us still has room.
    assert!(table.would_accept(&id(0x01, 0), now));
    assert_eq!(table.on_response(node(0x01, 0), now), Insertion::Added);
}

#[test]
fn the_fifteen_minute_rule() {
    let start = Instant::now();
    let mut entry = NodeEntry::answered(node(1, 1), start);
    assert_eq!(entry.status(start + 14 * MINUTE), NodeStatus::Good);
    assert_eq!(entry.status(start + 15 * MINUTE), NodeStatus::Questionable);
    // A query from a node that answered us before keeps it good for another 15 minutes.
    entry.last_query = Some(start + 10 * MINUTE);
    assert_eq!(entry.status(start + 24 * MINUTE), NodeStatus::Good);
    assert_eq!(entry.status(start + 25 * MINUTE), NodeStatus::Questionable);
    entry.failures = MAX_FAILURES - 1;
    assert_eq!(entry.status(start + 30 * MINUTE), NodeStatus::Questionable);
    entry.failures = MAX_FAILURES;
    assert_eq!(entry.status(start + MINUTE), NodeStatus::Bad);
}

#[test]
fn queries_refresh_known_nodes_only() {
    let start = Instant::now();
    let mut table = table(start);
    table.on_response(node(0x40, 1), start);
    let later = start + 20 * MINUTE;
    assert_eq!(table.good_len(later), 0);
    assert!(table.on_query(&node(0x40, 1), later));
    assert_eq!(table.good_len(later), 1);
    assert!(!table.on_query(&node(0x40, 2), later));
    // The same id from another address is not the node we know.
    let mut moved = node(0x40, 1);
    moved.addr.set_port(1);
    assert!(!table.on_query(&moved, later + MINUTE));
    assert_eq!(table.get(&moved.id).unwrap().last_query, Some(later));
}

#[test]
fn questionable_nodes_are_pinged_and_replaced_when_they_fail_twice() {
    let start = Instant::now();
    let mut table = full_far_bucket(start);
    let later = start + 16 * MINUTE;
    // Everyone in bucket 0 is questionable now; a newcomer waits for one of them to fail.
    assert!(table.would_accept(&id(0x80, 50), later));
    assert_eq!(table.on_response(node(0x80, 50), later), Insertion::Waiting);
    let to_ping = table.nodes_to_ping(later);
    assert_eq!(to_ping.len(), 1);
    let stalest = to_ping[0];
    // It answers: it is good again, and the next questionable one is pinged.
    assert_eq!(table.on_response(stalest, later), Insertion::Refreshed);
    let next = table.nodes_to_ping(later)[0];
    assert_ne!(next, stalest);
    // It fails once: still questionable (BEP 5: try once more), no replacement yet.
    assert_eq!(table.on_timeout(&next, later), None);
    assert_eq!(
        table.get(&next.id).unwrap().status(later),
        NodeStatus::Questionable
    );
    // It fails again: bad, and the waiting node takes its place.
    assert_eq!(table.on_timeout(&next, later), Some(node(0x80, 50)));
    assert!(table.get(&next.id).is_none());
    assert_eq!(
        table.get(&id(0x80, 50)).unwrap().status(later),
        NodeStatus::Good
    );
    assert_eq!(table.buckets()[0].nodes.len(), K);
}

#[test]
fn a_bad_node_is_replaced_at_once() {
    let start = Instant::now();
    let mut table = full_far_bucket(start);
    let victim = node(0x80, 3);
    for _ in 0..MAX_FAILURES {
        assert_eq!(table.on_timeout(&victim, start), None);
    }
    assert_eq!(table.on_response(node(0x80, 60), start), Insertion::Added);
    assert!(table.get(&victim.id).is_none());
    assert!(table.get(&id(0x80, 60)).is_some());
}

#[test]
fn inadmissible_nodes_are_refused() {
    let now = Instant::now();
    let mut table = table(now);
    let own = NodeInfo {
        id: NodeId([0; 20]),
        addr: SocketAddr::from(([10, 0, 0, 1], 1)),
    };
    assert_eq!(table.on_response(own, now), Insertion::Refused);
    let mut no_port = node(0x80, 1);
    no_port.addr.set_port(0);
    assert_eq!(table.on_response(no_port, now), Insertion::Refused);
    assert_eq!(table.on_response(node(0x80, 1), now), Insertion::Added);
    let mut moved = node(0x80, 1);
    moved.addr.set_port(7);
    assert_eq!(table.on_response(moved, now), Insertion::Refused);
    assert_eq!(table.on_response(node(0x80, 1), now), Insertion::Refreshed);
    assert_eq!(table.len(), 1);
}

#[test]
fn closest_prefers_good_nodes_sorted_by_distance_and_skips_bad_ones() {
    let start = Instant::now();
    let mut table = table(start);
    table.on_response(node(0x10, 0), start);
    let later = start + 16 * MINUTE;
    for n in [0x20, 0x08, 0x40] {
        table.on_response(node(n, 0), later);
    }
    let bad = node(0x04, 0);
    table.on_response(bad, later);
    for _ in 0..MAX_FAILURES {
        table.on_timeout(&bad, later);
    }
    let target = id(0x00, 1);
    let closest = table.closest(&target, 8, later);
    let firsts: Vec<u8> = closest.iter().map(|info| info.id.0[0]).collect();
    // Good by distance (0x08, 0x20, 0x40), then the questionable 0x10; never the bad 0x04.
    assert_eq!(firsts, [0x08, 0x20, 0x40, 0x10]);
    assert_eq!(table.closest(&target, 2, later).len(), 2);
}

#[test]
fn stale_buckets_get_a_refresh_target_inside_their_range() {
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(3);
    let mut table = full_far_bucket(start);
    assert!(
        table
            .refresh_targets(15 * MINUTE, start, &mut rng)
            .is_empty()
    );
    let later = start + 15 * MINUTE;
    let targets = table.refresh_targets(15 * MINUTE, later, &mut rng);
    assert_eq!(targets.len(), table.bucket_count());
    for (depth, target) in targets.iter().enumerate() {
        assert_eq!(table.own_id().common_prefix_len(target), depth);
    }
    assert!(
        table
            .refresh_targets(15 * MINUTE, later, &mut rng)
            .is_empty()
    );
}
