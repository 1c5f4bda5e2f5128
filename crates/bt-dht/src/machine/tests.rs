//! Tests of the sans-IO node: serving each query, time-outs and retries, and whole networks of
//! nodes exchanging datagrams in memory under a simulated clock.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bt_proto::InfoHash;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::krpc::{self, Body, Message, Method, Query, Response, Want, code};
use crate::table::K;

fn addr(n: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (n / 200) as u8, (n % 200) as u8 + 1], 6881))
}

fn settings() -> DhtSettings {
    DhtSettings {
        query_timeout: Duration::from_millis(500),
        ..DhtSettings::default()
    }
}

/// Nodes at `addr(0..n)` that deliver each other's datagrams at once; nodes in `dead` receive
/// nothing.
struct Net {
    nodes: Vec<Dht>,
    now: Instant,
    dead: HashSet<usize>,
}

impl Net {
    fn new(count: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = Instant::now();
        let nodes = (0..count)
            .map(|n| Dht::new(NodeId::random(&mut rng), settings(), now, seed + n as u64))
            .collect();
        Self {
            nodes,
            now,
            dead: HashSet::new(),
        }
    }

    fn index(&self, to: SocketAddr) -> Option<usize> {
        (0..self.nodes.len()).find(|&n| addr(n) == to)
    }

    /// Delivers datagrams until none are left.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            for from in 0..self.nodes.len() {
                while let Some(transmit) = self.nodes[from].poll_transmit() {
                    moved = true;
                    if let Some(to) = self.index(transmit.to)
                        && !self.dead.contains(&to)
                    {
                        let now = self.now;
                        self.nodes[to].handle(&transmit.bytes, addr(from), now);
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Lets `duration` pass in ticks of 100 ms, delivering everything in between.
    fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        self.settle();
        while self.now < end {
            self.now += Duration::from_millis(100);
            let now = self.now;
            for node in &mut self.nodes {
                node.tick(now);
            }
            self.settle();
        }
    }

    /// Runs until node `n` reports lookup `id` finished (within a simulated minute).
    fn outcome(&mut self, n: usize, id: LookupId) -> LookupOutcome {
        for _ in 0..600 {
            self.settle();
            while let Some(outcome) = self.nodes[n].poll_outcome() {
                if outcome.id == id {
                    return outcome;
                }
            }
            self.run(Duration::from_millis(100));
        }
        panic!("lookup {id:?} of node {n} did not finish");
    }

    /// Node `n` bootstraps from the node at `from` and waits for its lookup.
    fn join(&mut self, n: usize, from: usize) {
        self.nodes[n].set_bootstrap(vec![addr(from)]);
        let now = self.now;
        let id = self.nodes[n].bootstrap(&[], now);
        self.outcome(n, id);
    }
}

/// One node, and what it sends back to a datagram from `asker`.
fn ask(dht: &mut Dht, asker: SocketAddr, bytes: &[u8], now: Instant) -> Vec<Message> {
    ask_raw(dht, asker, bytes, now)
        .iter()
        .map(|datagram| krpc::decode(datagram).unwrap())
        .collect()
}

/// The datagrams themselves.
fn ask_raw(dht: &mut Dht, asker: SocketAddr, bytes: &[u8], now: Instant) -> Vec<Vec<u8>> {
    dht.handle(bytes, asker, now);
    std::iter::from_fn(|| dht.poll_transmit())
        .filter(|t| t.to == asker)
        .map(|t| t.bytes)
        .collect()
}

fn query(from: NodeId, transaction: &[u8], method: Method) -> Vec<u8> {
    query_wanting(from, transaction, method, None)
}

/// A query with a BEP 32 `want`.
fn query_wanting(from: NodeId, transaction: &[u8], method: Method, want: Option<Want>) -> Vec<u8> {
    Message {
        transaction: transaction.to_vec(),
        version: None,
        read_only: false,
        body: Body::Query(Query {
            id: from,
            method,
            want,
        }),
    }
    .encode()
}

/// The reply to `transaction` among `messages`.
fn reply<'a>(messages: &'a [Message], transaction: &[u8]) -> &'a Body {
    &messages
        .iter()
        .find(|m| m.transaction == transaction)
        .expect("a reply")
        .body
}

#[test]
fn each_query_is_answered_as_bep5_says() {
    let now = Instant::now();
    let own = NodeId([1; 20]);
    let mut dht = Dht::new(own, settings(), now, 1);
    let asker = addr(9);
    let asker_id = NodeId([2; 20]);
    let hash = InfoHash([3; 20]);

    let out = ask(&mut dht, asker, &query(asker_id, b"p1", Method::Ping), now);
    assert_eq!(reply(&out, b"p1"), &Body::Response(Response::id_only(own)));
    // The unknown asker is pinged, to be verified before it may enter the table.
    assert!(out.iter().any(|m| matches!(
        &m.body,
        Body::Query(Query {
            method: Method::Ping,
            ..
        })
    )));

    // get_peers with no peers stored: a token, and nodes (none known yet).
    let out = ask(
        &mut dht,
        asker,
        &query(asker_id, b"g1", Method::GetPeers { info_hash: hash }),
        now,
    );
    let Body::Response(first) = reply(&out, b"g1") else {
        panic!("not a response")
    };
    let token = first.token.clone().expect("a token");
    assert!(first.values.is_empty());

    // announce_peer with that token stores the asker's IP and the given port.
    let announce = |token: Vec<u8>, implied_port| Method::AnnouncePeer {
        info_hash: hash,
        port: 5000,
        implied_port,
        token,
    };
    let out = ask(
        &mut dht,
        asker,
        &query(asker_id, b"a1", announce(token.clone(), false)),
        now,
    );
    assert_eq!(reply(&out, b"a1"), &Body::Response(Response::id_only(own)));
    let out = ask(
        &mut dht,
        asker,
        &query(asker_id, b"a2", announce(token.clone(), true)),
        now,
    );
    assert_eq!(reply(&out, b"a2"), &Body::Response(Response::id_only(own)));
    let out = ask(
        &mut dht,
        asker,
        &query(asker_id, b"g2", Method::GetPeers { info_hash: hash }),
        now,
    );
    let Body::Response(second) = reply(&out, b"g2") else {
        panic!("not a response")
    };
    let mut values = second.values.clone();
    values.sort();
    // Port 5000 as given, and 6881 (the UDP source port) through implied_port.
    assert_eq!(values, [SocketAddr::new(asker.ip(), 5000), asker]);
    assert!(second.nodes.is_empty());

    // The same token from another IP is refused with 203.
    let other = addr(10);
    let out = ask(
        &mut dht,
        other,
        &query(NodeId([4; 20]), b"a3", announce(token, false)),
        now,
    );
    assert!(matches!(reply(&out, b"a3"), Body::Error(e) if e.code == code::PROTOCOL));

    // An unknown method gets 204, a malformed query 203.
    let out = ask(
        &mut dht,
        asker,
        &query(asker_id, b"u1", Method::Unknown(b"get".to_vec())),
        now,
    );
    assert!(matches!(reply(&out, b"u1"), Body::Error(e) if e.code == code::METHOD_UNKNOWN));
    let out = ask(
        &mut dht,
        asker,
        b"d1:ad2:id2:xxe1:q4:ping1:t2:m11:y1:qe",
        now,
    );
    assert!(matches!(reply(&out, b"m1"), Body::Error(e) if e.code == code::PROTOCOL));
}

#[test]
fn find_node_answers_with_the_closest_nodes_known() {
    let mut net = Net::new(20, 2);
    for n in 1..20 {
        net.join(n, 0);
    }
    let target = NodeId([0x55; 20]);
    let now = net.now;
    let out = ask(
        &mut net.nodes[0],
        addr(99),
        &query(NodeId([9; 20]), b"f1", Method::FindNode { target }),
        now,
    );
    let Body::Response(response) = reply(&out, b"f1") else {
        panic!("not a response")
    };
    assert_eq!(response.nodes.len(), K);
    let expected = net.nodes[0].table().closest(&target, K, now);
    assert_eq!(response.nodes, expected);
}

/// BEP 32 `want` from an IPv4 asker to our IPv4 node: `n4` gets `nodes`, a lone `n6` an
/// empty `nodes6` (and no `nodes`), both get both keys; the same for `get_peers` without
/// peers.
#[test]
fn want_names_the_node_lists_of_the_reply() {
    let mut net = Net::new(12, 5);
    for n in 1..12 {
        net.join(n, 0);
    }
    let target = NodeId([0x33; 20]);
    let now = net.now;
    let closest = net.nodes[0].table().closest(&target, K, now);
    let both = Want {
        nodes4: true,
        nodes6: true,
    };
    let has = |bytes: &[u8], key: &[u8]| bytes.windows(key.len()).any(|w| w == key);
    let methods = [
        Method::FindNode { target },
        Method::GetPeers {
            info_hash: InfoHash(target.0),
        },
    ];
    for method in methods {
        for (want, nodes4, empty_nodes6) in [
            (None, true, false),
            (Some(Want::family(false)), true, false),
            (Some(Want::family(true)), false, true),
            (Some(both), true, true),
        ] {
            let asked = query_wanting(NodeId([9; 20]), b"w1", method.clone(), want);
            let out = ask_raw(&mut net.nodes[0], addr(99), &asked, now);
            let bytes = out
                .iter()
                .find(|d| matches!(krpc::decode(d), Ok(m) if m.transaction == b"w1"))
                .expect("a reply");
            let context = format!("{method:?} {want:?}: {}", String::from_utf8_lossy(bytes));
            assert_eq!(has(bytes, b"5:nodes"), nodes4, "{context}");
            assert_eq!(has(bytes, b"6:nodes60:"), empty_nodes6, "{context}");
            let Body::Response(response) = krpc::decode(bytes).unwrap().body else {
                panic!("not a response: {context}")
            };
            let expected = if nodes4 { closest.clone() } else { Vec::new() };
            assert_eq!(response.nodes, expected, "{context}");
        }
    }
}

#[test]
fn queries_over_the_rate_limit_are_dropped_silently() {
    let now = Instant::now();
    let mut dht = Dht::new(NodeId([1; 20]), settings(), now, 1);
    let answered = (0..100)
        .filter(|n| {
            let t = (*n as u16).to_be_bytes();
            !ask(
                &mut dht,
                addr(9),
                &query(NodeId([2; 20]), &t, Method::Ping),
                now,
            )
            .iter()
            .all(|m| m.transaction != t)
        })
        .count();
    let limits = crate::rate::RateLimits::default();
    assert_eq!(answered, limits.per_ip_burst as usize);
    assert_eq!(dht.stats(now).queries_rate_limited, 100 - answered as u64);
    // Another IP is still served.
    let out = ask(
        &mut dht,
        addr(10),
        &query(NodeId([3; 20]), b"zz", Method::Ping),
        now,
    );
    assert!(out.iter().any(|m| m.transaction == b"zz"));
}

#[test]
fn an_unanswered_query_is_sent_again_then_given_up() {
    let mut net = Net::new(2, 3);
    net.dead.insert(1);
    net.nodes[0].set_bootstrap(vec![addr(1)]);
    let now = net.now;
    let id = net.nodes[0].bootstrap(&[], now);
    let first = net.nodes[0].poll_transmit().expect("a query");
    assert_eq!(first.to, addr(1));
    // Not yet due.
    net.nodes[0].tick(now + Duration::from_millis(400));
    assert!(net.nodes[0].poll_transmit().is_none());
    // Due: the same datagram again.
    net.nodes[0].tick(now + Duration::from_millis(500));
    assert_eq!(net.nodes[0].poll_transmit(), Some(first));
    // Due again: given up, and the lookup ends with nothing.
    net.nodes[0].tick(now + Duration::from_millis(1000));
    let outcome = net.nodes[0].poll_outcome().expect("the lookup ended");
    assert_eq!(outcome.id, id);
    assert!(outcome.closest.is_empty());
    assert_eq!(net.nodes[0].stats(now).timeouts, 1);
}

#[test]
fn answers_from_the_wrong_address_or_transaction_are_ignored() {
    let mut net = Net::new(3, 4);
    net.nodes[0].set_bootstrap(vec![addr(1)]);
    let now = net.now;
    net.nodes[0].bootstrap(&[], now);
    let sent = net.nodes[0].poll_transmit().unwrap();
    let Body::Query(q) = krpc::decode(&sent.bytes).unwrap().body else {
        panic!("not a query")
    };
    assert!(matches!(q.method, Method::FindNode { .. }));
    let transaction = krpc::decode(&sent.bytes).unwrap().transaction;
    let forged = Message {
        transaction: transaction.clone(),
        version: None,
        read_only: false,
        body: Body::Response(Response::id_only(NodeId([7; 20]))),
    };
    // From node 2, not node 1: dropped, and the query is still in flight.
    net.nodes[0].handle(&forged.encode(), addr(2), now);
    assert_eq!(net.nodes[0].table().len(), 0);
    assert_eq!(net.nodes[0].stats(now).pending_queries, 1);
    // The right address with an unknown transaction id: dropped too.
    let stray = Message {
        transaction: b"zz".to_vec(),
        ..forged.clone()
    };
    net.nodes[0].handle(&stray.encode(), addr(1), now);
    assert_eq!(net.nodes[0].table().len(), 0);
    // The right address and transaction: the node joins the table.
    net.nodes[0].handle(&forged.encode(), addr(1), now);
    assert_eq!(net.nodes[0].table().len(), 1);
    assert_eq!(net.nodes[0].stats(now).dropped, 2);
}

#[test]
fn a_network_of_sixty_nodes_finds_an_announced_peer() {
    let mut net = Net::new(60, 5);
    // Half join through node 0, half through node 1 (itself joined through node 0).
    net.join(1, 0);
    for n in 2..60 {
        net.join(n, n % 2);
    }
    net.run(Duration::from_secs(2));
    for (n, node) in net.nodes.iter().enumerate() {
        assert!(
            node.table().len() >= K,
            "node {n} knows {}",
            node.table().len()
        );
    }
    let hash = InfoHash([0xab; 20]);
    let now = net.now;
    let announce = net.nodes[17].announce(hash, 7000, false, now);
    let outcome = net.outcome(17, announce);
    assert!(outcome.announced_to >= K / 2, "{outcome:?}");
    assert!(outcome.peers.is_empty());
    // The closest answering nodes are the true closest nodes of the network.
    let mut all: Vec<NodeId> = net
        .nodes
        .iter()
        .map(|n| n.id())
        .filter(|id| *id != net.nodes[17].id())
        .collect();
    all.sort_by_key(|id| id.distance(&hash.into()));
    let found: Vec<NodeId> = outcome.closest.iter().map(|n| n.id).collect();
    assert_eq!(found, all[..K]);

    let now = net.now;
    let search = net.nodes[42].get_peers(hash, now);
    let outcome = net.outcome(42, search);
    assert_eq!(outcome.peers, [SocketAddr::new(addr(17).ip(), 7000)]);
    assert!(!outcome.timed_out);
}

#[test]
fn a_lookup_out_of_time_ends_with_what_it_has() {
    let mut net = Net::new(2, 6);
    net.join(1, 0);
    net.dead.insert(0);
    let settings = DhtSettings {
        lookup_timeout: Duration::from_millis(300),
        query_timeout: Duration::from_secs(10),
        ..settings()
    };
    net.nodes[1].settings = settings;
    let now = net.now;
    let id = net.nodes[1].get_peers(InfoHash([1; 20]), now);
    net.run(Duration::from_millis(300));
    let outcome = net.nodes[1].poll_outcome().expect("ended");
    assert_eq!(outcome.id, id);
    assert!(outcome.timed_out);
}

#[test]
fn nodes_that_stop_answering_turn_bad_and_are_no_longer_named() {
    // Node 0 knows nodes 1..=8 and nothing else; after 15 quiet minutes they are questionable.
    let mut net = Net::new(12, 7);
    for n in 1..12 {
        net.join(n, 0);
    }
    let before = net.nodes[0].table().len();
    assert!(before >= K);
    net.now += crate::table::GOOD_FOR;
    let now = net.now;
    assert_eq!(net.nodes[0].table().good_len(now), 0);
    // Questionable nodes are still named when there are no good ones.
    let target = NodeId([0; 20]);
    assert_eq!(net.nodes[0].table().closest(&target, K, now).len(), K);
    // Every node but node 0 goes away: pings go unanswered and the bad nodes drop out of
    // `closest` (no replacement exists, so they stay in their buckets, bad).
    for n in 1..12 {
        net.dead.insert(n);
    }
    for _ in 0..crate::table::MAX_FAILURES {
        for n in 1..12 {
            net.nodes[0].ping(addr(n), now);
        }
        net.run(Duration::from_secs(2));
    }
    let now = net.now;
    assert!(net.nodes[0].table().closest(&target, K, now).is_empty());
}

#[test]
fn a_lookup_with_too_many_queries_in_flight_still_ends() {
    let mut net = Net::new(20, 8);
    for n in 1..20 {
        net.join(n, 0);
    }
    // Node 5 may have one query in flight: the other two of each round are refused, count as
    // failed, and the lookup carries on with what it can send.
    net.nodes[5].settings.max_pending = 1;
    let now = net.now;
    let id = net.nodes[5].get_peers(InfoHash([7; 20]), now);
    let outcome = net.outcome(5, id);
    assert!(!outcome.timed_out);
    assert!(!outcome.closest.is_empty());
}

#[test]
fn a_lookup_that_may_send_nothing_ends_at_once() {
    let mut net = Net::new(12, 9);
    for n in 1..12 {
        net.join(n, 0);
    }
    net.nodes[3].settings.max_pending = 0;
    let now = net.now;
    let id = net.nodes[3].get_peers(InfoHash([7; 20]), now);
    let outcome = net.nodes[3].poll_outcome().expect("over without waiting");
    assert_eq!(outcome.id, id);
    assert!(!outcome.timed_out);
    assert!(outcome.closest.is_empty());
}
