//! The routing table survives a restart: saved on shutdown, reloaded at start, and enough to
//! rejoin the network without any bootstrap node.

use bt_dht::state::SavedState;
use bt_dht::{DhtConfig, DhtHandle};
use bt_proto::InfoHash;

use crate::support::{logs, start, start_with, wait_joined, within};

#[actix::test]
async fn the_table_is_saved_and_reloaded_across_runs() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("dht.state");
    let mut network: Vec<DhtHandle> = vec![start(&[]).await];
    for _ in 1..10 {
        let node = start(&[network[0].local_addr()]).await;
        wait_joined(&node, 1).await;
        network.push(node);
    }

    // First run: joins through node 0, then shuts down and saves.
    let config = DhtConfig {
        state_file: Some(state_file.clone()),
        ..DhtConfig::loopback(&[network[0].local_addr()])
    };
    let first = start_with(config.clone()).await;
    wait_joined(&first, 5).await;
    let before = first.stats().await.unwrap().dht;
    first.shutdown().await.unwrap();
    let saved = SavedState::decode(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(Some(saved.id), before.node_id);
    assert_eq!(saved.nodes.len(), before.nodes);

    // Node 0 announces something meanwhile.
    let info_hash = InfoHash([0x42; 20]);
    within(30, "announce", network[0].announce(info_hash, 4000))
        .await
        .unwrap();

    // Second run: no bootstrap nodes at all, only the file.
    let second = start_with(DhtConfig {
        bootstrap: Vec::new(),
        ..config
    })
    .await;
    wait_joined(&second, 5).await;
    let after = second.stats().await.unwrap().dht;
    assert_eq!(after.node_id, before.node_id, "the id is kept");
    let peers = within(30, "get_peers", second.get_peers(info_hash))
        .await
        .unwrap();
    assert_eq!(peers.len(), 1);
    second.shutdown().await.unwrap();
    for node in &network {
        node.shutdown().await.unwrap();
    }
}
