//! Thirty DHT nodes on loopback and no tracker: one announces an info-hash, another that
//! joined through a different node finds the announced peer.

use std::net::SocketAddr;

use bt_dht::DhtHandle;
use bt_proto::InfoHash;

use crate::support::{logs, start, wait_joined, within};

const NODES: usize = 30;

#[actix::test]
async fn thirty_nodes_find_an_announced_peer_without_a_tracker() {
    logs();
    // Node 0 starts alone; nodes 1..15 join through node 0, nodes 15..30 through node 1.
    let mut nodes: Vec<DhtHandle> = vec![start(&[]).await];
    for n in 1..NODES {
        let through = if n < 15 { 0 } else { 1 };
        let node = start(&[nodes[through].local_addr()]).await;
        let t = std::time::Instant::now();
        wait_joined(&node, 1).await;
        eprintln!(
            "join {n} {:?} {:?}",
            t.elapsed(),
            node.stats().await.unwrap().dht
        );
        nodes.push(node);
    }
    for node in &nodes {
        wait_joined(node, 1).await;
    }

    let info_hash = InfoHash(*b"bt-dht swarm test 30");
    let announcer = 7; // joined through node 0
    let searcher = 29; // joined through node 1
    let peer_port = 45_678;
    let report = within(
        30,
        "the announce",
        nodes[announcer].announce(info_hash, peer_port),
    )
    .await
    .expect("announce");
    assert!(report.announced_to >= 4, "{report:?}");

    // The closest nodes to the info-hash store it, and only those.
    let mut storing = 0;
    for node in &nodes {
        storing += node.stats().await.unwrap().dht.torrents;
    }
    assert_eq!(storing, report.announced_to);

    let peers = within(30, "the search", nodes[searcher].get_peers(info_hash))
        .await
        .expect("get_peers");
    let announced = SocketAddr::from(([127, 0, 0, 1], peer_port));
    assert_eq!(peers, [announced]);

    // An info-hash nobody announced finds nothing, and ends all the same.
    let none = within(
        30,
        "a search for nothing",
        nodes[3].get_peers(InfoHash([9; 20])),
    )
    .await
    .expect("get_peers");
    assert!(none.is_empty());

    for node in &nodes {
        node.shutdown().await.unwrap();
    }
}
