//! One node on the wire.

use bt_dht::krpc::{Body, Message, Method, Query, code};
use bt_dht::{DhtConfig, DhtError, NodeId};
use bt_proto::InfoHash;

use crate::support::{RawClient, logs, start, start_with, wait_until, within};

fn ping(id: NodeId, transaction: &[u8]) -> Vec<u8> {
    Message {
        transaction: transaction.to_vec(),
        version: None,
        read_only: false,
        body: Body::Query(Query {
            id,
            method: Method::Ping,
            want: None,
        }),
    }
    .encode()
}

#[actix::test]
async fn a_node_answers_pings_and_survives_garbage() {
    logs();
    let node = start(&[]).await;
    let stats = node.stats().await.unwrap();
    assert!(stats.local_addr.ip().is_loopback());
    assert_ne!(stats.local_addr.port(), 0);
    let own = stats.dht.node_id.unwrap();

    let client = RawClient::new().await;
    let to = node.local_addr();
    let reply = client.ask(to, &ping(NodeId([7; 20]), b"p1"), b"p1").await;
    let Body::Response(response) = reply.body else {
        panic!("not a response: {reply:?}")
    };
    assert_eq!(response.id, own);

    // Garbage, a truncated message, and a query with a bad id: no crash; the last gets 203.
    client.send(to, b"\x00\xff garbage").await;
    client.send(to, b"d1:ad2:id20:abc").await;
    let reply = client
        .ask(to, b"d1:ad2:id3:abce1:q4:ping1:t2:m11:y1:qe", b"m1")
        .await;
    assert!(matches!(reply.body, Body::Error(e) if e.code == code::PROTOCOL));
    // Still alive.
    let reply = client.ask(to, &ping(NodeId([7; 20]), b"p2"), b"p2").await;
    assert!(matches!(reply.body, Body::Response(_)));
    let stats = node.stats().await.unwrap().dht;
    assert!(stats.dropped >= 3, "{stats:?}");
    node.shutdown().await.unwrap();
}

#[actix::test]
async fn a_node_verifies_who_queries_it_and_add_node_pings() {
    logs();
    let a = start(&[]).await;
    let b = start(&[]).await;
    // B is told of A (as a peer's `port` message would): A answers B's ping and joins B's
    // table; A, queried by an unknown node, pings B back and adds it too.
    b.add_node(a.local_addr());
    wait_until(10, "each in the other's table", || async {
        a.stats().await.unwrap().dht.nodes == 1 && b.stats().await.unwrap().dht.nodes == 1
    })
    .await;
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[actix::test]
async fn shutdown_stops_the_node_and_ends_its_lookups() {
    logs();
    // A bootstrap address that never answers, and long time-outs: the lookup stays open.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let config = DhtConfig {
        query_timeout_ms: 60_000,
        lookup_timeout_ms: 120_000,
        ..DhtConfig::loopback(&[silent.local_addr().unwrap()])
    };
    let node = start_with(config).await;
    // The bootstrap query reaches the silent socket.
    let mut buffer = [0u8; 1500];
    within(5, "the bootstrap query", silent.recv_from(&mut buffer))
        .await
        .unwrap();
    let handle = node.clone();
    let search = actix::spawn(async move { handle.get_peers(InfoHash([1; 20])).await });
    wait_until(5, "the lookup running", || async {
        node.stats().await.unwrap().dht.lookups >= 2
    })
    .await;
    node.shutdown().await.unwrap();
    let result = within(5, "the lookup's end", search).await.unwrap();
    assert!(matches!(result, Err(DhtError::Stopped)), "{result:?}");
    assert!(matches!(node.stats().await, Err(DhtError::Stopped)));
    assert!(!node.addr().connected());
}

#[actix::test]
async fn binding_a_taken_port_is_a_typed_error() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let config = DhtConfig {
        listen: taken.local_addr().unwrap(),
        ..DhtConfig::loopback(&[])
    };
    let error = bt_dht::DhtNode::start(config).await.unwrap_err();
    assert!(matches!(error, DhtError::Bind { .. }), "{error}");
}

#[actix::test]
async fn host_names_in_the_bootstrap_list_are_resolved() {
    logs();
    let router = start(&[]).await;
    let name = format!("localhost:{}", router.local_addr().port());
    let config = DhtConfig {
        bootstrap: vec![name, "no-such-host.invalid:6881".to_owned()],
        ..DhtConfig::loopback(&[])
    };
    let node = start_with(config).await;
    wait_until(20, "joining through localhost", || async {
        node.stats().await.unwrap().dht.nodes >= 1
    })
    .await;
    node.shutdown().await.unwrap();
    router.shutdown().await.unwrap();
}
