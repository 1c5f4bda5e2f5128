//! Lookup tests against simulated networks: convergence on the true closest nodes, α, failures,
//! seeds, and the query budget.

use std::collections::HashMap;
use std::net::SocketAddr;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::*;

fn addr(n: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (n / 250) as u8, (n % 250) as u8 + 1], 6881))
}

/// `count` nodes with random ids; each knows up to K nodes in every bucket of its own id space,
/// as a full routing table would (few far away, many close by).
struct World {
    nodes: Vec<NodeInfo>,
    knows: HashMap<SocketAddr, Vec<NodeInfo>>,
}

impl World {
    fn new(count: usize, rng: &mut StdRng) -> Self {
        let nodes: Vec<NodeInfo> = (0..count)
            .map(|n| NodeInfo {
                id: NodeId::random(rng),
                addr: addr(n),
            })
            .collect();
        let knows = nodes
            .iter()
            .map(|node| {
                let mut per_bucket: HashMap<usize, Vec<NodeInfo>> = HashMap::new();
                let mut others = nodes.clone();
                others.shuffle(rng);
                for other in others.into_iter().filter(|o| o.id != node.id) {
                    let bucket = per_bucket
                        .entry(node.id.common_prefix_len(&other.id))
                        .or_default();
                    if bucket.len() < K {
                        bucket.push(other);
                    }
                }
                (node.addr, per_bucket.into_values().flatten().collect())
            })
            .collect();
        Self { nodes, knows }
    }

    /// What the node at `addr` answers to a lookup of `target`: the K closest it knows.
    fn answer(&self, addr: SocketAddr, target: &NodeId) -> (NodeInfo, Vec<NodeInfo>) {
        let me = *self.nodes.iter().find(|n| n.addr == addr).unwrap();
        (me, closest(&self.knows[&addr], target, K))
    }
}

fn closest(nodes: &[NodeInfo], target: &NodeId, count: usize) -> Vec<NodeInfo> {
    let mut sorted = nodes.to_vec();
    sorted.sort_by_key(|n| n.id.distance(target));
    sorted.truncate(count);
    sorted
}

/// Runs `lookup` against `world` (nodes in `dead` never answer) and returns the queries sent.
fn run(lookup: &mut Lookup, world: &World, dead: &[SocketAddr]) -> usize {
    let target = lookup.target();
    while !lookup.is_done() {
        let batch = lookup.next_queries();
        assert!(batch.len() <= ALPHA);
        assert!(
            !batch.is_empty(),
            "a lookup that is not done has someone to ask"
        );
        for contact in batch {
            if dead.contains(&contact.addr()) {
                lookup.on_failure(&contact);
            } else {
                let (me, nodes) = world.answer(contact.addr(), &target);
                lookup.on_response(&contact, me, &nodes, Some(vec![me.addr.port() as u8]));
            }
        }
    }
    lookup.queries_sent()
}

#[test]
fn a_lookup_converges_on_the_true_closest_nodes() {
    let mut rng = StdRng::seed_from_u64(11);
    let world = World::new(500, &mut rng);
    let own = NodeId::random(&mut rng);
    for _ in 0..20 {
        let target = NodeId::random(&mut rng);
        let start: Vec<NodeInfo> = world.nodes.sample(&mut rng, 8).copied().collect();
        let mut lookup = Lookup::new(target, own, start, []);
        let queries = run(&mut lookup, &world, &[]);
        let found: Vec<NodeId> = lookup
            .closest_answered(K)
            .iter()
            .map(|c| c.info.id)
            .collect();
        let truth: Vec<NodeId> = closest(&world.nodes, &target, K)
            .iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(found, truth);
        assert!(queries < MAX_QUERIES, "{queries} queries");
        // Every answering node gave a token.
        assert!(lookup.closest_answered(K).iter().all(|c| c.token.is_some()));
    }
}

#[test]
fn no_more_than_alpha_queries_are_in_flight() {
    let mut rng = StdRng::seed_from_u64(12);
    let nodes: Vec<NodeInfo> = (0..8)
        .map(|n| NodeInfo {
            id: NodeId::random(&mut rng),
            addr: addr(n),
        })
        .collect();
    let mut lookup = Lookup::new(NodeId::random(&mut rng), NodeId([0; 20]), nodes, []);
    let first = lookup.next_queries();
    assert_eq!(first.len(), ALPHA);
    assert!(lookup.next_queries().is_empty());
    lookup.on_failure(&first[0]);
    assert_eq!(lookup.next_queries().len(), 1);
    assert!(!lookup.is_done());
}

#[test]
fn answers_without_closer_nodes_end_the_lookup() {
    let mut rng = StdRng::seed_from_u64(13);
    let target = NodeId::random(&mut rng);
    let nodes: Vec<NodeInfo> = (0..3)
        .map(|n| NodeInfo {
            id: NodeId::random(&mut rng),
            addr: addr(n),
        })
        .collect();
    let mut lookup = Lookup::new(target, NodeId([0; 20]), nodes.clone(), []);
    for contact in lookup.next_queries() {
        let Contact::Node(me) = contact else {
            panic!("no seeds here")
        };
        // Each names only the others, which are already known.
        lookup.on_response(&contact, me, &nodes, None);
    }
    assert!(lookup.is_done());
    assert_eq!(lookup.queries_sent(), 3);
}

#[test]
fn dead_nodes_are_skipped_and_the_lookup_still_ends() {
    let mut rng = StdRng::seed_from_u64(14);
    let world = World::new(300, &mut rng);
    let dead: Vec<SocketAddr> = world.nodes.iter().step_by(3).map(|n| n.addr).collect();
    let target = NodeId::random(&mut rng);
    let start: Vec<NodeInfo> = world.nodes.sample(&mut rng, 8).copied().collect();
    let mut lookup = Lookup::new(target, NodeId([0; 20]), start, []);
    run(&mut lookup, &world, &dead);
    let found = lookup.closest_answered(K);
    assert_eq!(found.len(), K);
    assert!(found.iter().all(|c| !dead.contains(&c.info.addr)));
    // They are the closest live nodes.
    let live: Vec<NodeInfo> = world
        .nodes
        .iter()
        .filter(|n| !dead.contains(&n.addr))
        .copied()
        .collect();
    let truth: Vec<NodeId> = closest(&live, &target, K).iter().map(|n| n.id).collect();
    assert_eq!(found.iter().map(|c| c.info.id).collect::<Vec<_>>(), truth);
}

#[test]
fn seeds_are_asked_first_and_join_under_their_answered_id() {
    let mut rng = StdRng::seed_from_u64(15);
    let world = World::new(200, &mut rng);
    let seed = world.nodes[7].addr;
    let target = NodeId::random(&mut rng);
    let mut lookup = Lookup::new(target, NodeId([0; 20]), [], [seed, seed]);
    let first = lookup.next_queries();
    assert_eq!(first, [Contact::Seed(seed)], "a seed is asked once");
    assert!(!lookup.is_done());
    let (me, nodes) = world.answer(seed, &target);
    lookup.on_response(&first[0], me, &nodes, None);
    run(&mut lookup, &world, &[]);
    let truth: Vec<NodeId> = closest(&world.nodes, &target, K)
        .iter()
        .map(|n| n.id)
        .collect();
    let found: Vec<NodeId> = lookup
        .closest_answered(K)
        .iter()
        .map(|c| c.info.id)
        .collect();
    assert_eq!(found, truth);
}

#[test]
fn our_own_id_and_unusable_addresses_are_never_candidates() {
    let own = NodeId([9; 20]);
    let me = NodeInfo {
        id: own,
        addr: addr(1),
    };
    let port_zero = NodeInfo {
        id: NodeId([1; 20]),
        addr: SocketAddr::from(([10, 0, 0, 9], 0)),
    };
    let mut lookup = Lookup::new(own, own, [me, port_zero], []);
    assert!(lookup.next_queries().is_empty());
    assert!(lookup.is_done());
}

#[test]
fn the_query_budget_ends_an_endless_lookup() {
    // Ids are counters in the last 16 bytes; the target is zero, so a smaller counter is closer.
    let node = |value: u128, n: usize| {
        let mut id = [0u8; 20];
        id[4..].copy_from_slice(&value.to_be_bytes());
        NodeInfo {
            id: NodeId(id),
            addr: addr(n),
        }
    };
    let mut next_value = u128::MAX;
    let mut next_addr = 0;
    let mut fresh = || {
        next_value -= 1;
        next_addr += 1;
        node(next_value, next_addr)
    };
    let mut lookup = Lookup::new(NodeId([0; 20]), NodeId([0xff; 20]), [fresh()], []);
    while !lookup.is_done() {
        for contact in lookup.next_queries() {
            let Contact::Node(me) = contact else {
                panic!("no seeds here")
            };
            // Every answer names ten fresh nodes, each closer than anything seen.
            let closer: Vec<NodeInfo> = (0..10).map(|_| fresh()).collect();
            lookup.on_response(&contact, me, &closer, None);
        }
    }
    assert_eq!(lookup.queries_sent(), MAX_QUERIES);
}
