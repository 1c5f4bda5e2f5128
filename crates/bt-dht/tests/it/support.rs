//! Helpers: nodes on loopback, bounded waits, a raw KRPC client.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bt_dht::krpc::{self, Message};
use bt_dht::{DhtConfig, DhtHandle, DhtNode};
use tokio::net::UdpSocket;

/// Logs to the test's output when `RUST_LOG` is set (`RUST_LOG=bt_dht=debug`).
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Awaits `future`, failing the test after `secs` seconds.
pub async fn within<T>(secs: u64, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no result within {secs} s"))
}

/// Polls `check` every 50 ms until it holds, failing the test after `secs` seconds.
pub async fn wait_until<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(secs, what, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// A node on 127.0.0.1 bootstrapping from `bootstrap`.
pub async fn start(bootstrap: &[SocketAddr]) -> DhtHandle {
    start_with(DhtConfig::loopback(bootstrap)).await
}

/// A node with the given configuration.
pub async fn start_with(config: DhtConfig) -> DhtHandle {
    DhtNode::start(config).await.expect("the node starts")
}

/// Waits until the node has no lookup running (its bootstrap is over) and knows `nodes`.
pub async fn wait_joined(node: &DhtHandle, nodes: usize) {
    wait_until(30, "joining the DHT", || async {
        let stats = node.stats().await.expect("stats").dht;
        stats.lookups == 0 && stats.nodes >= nodes
    })
    .await;
}

/// A plain UDP socket that speaks KRPC, to poke a node from outside.
pub struct RawClient {
    socket: UdpSocket,
}

impl RawClient {
    pub async fn new() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        Self { socket }
    }

    pub async fn send(&self, to: SocketAddr, bytes: &[u8]) {
        self.socket.send_to(bytes, to).await.expect("send");
    }

    /// The next message from `from` (others are skipped), within five seconds.
    pub async fn receive_from(&self, from: SocketAddr) -> Message {
        let mut buffer = [0u8; 65536];
        within(5, "a datagram", async {
            loop {
                let (len, sender) = self.socket.recv_from(&mut buffer).await.expect("receive");
                if sender == from {
                    return krpc::decode(&buffer[..len]).expect("well-formed KRPC");
                }
            }
        })
        .await
    }

    /// Sends `bytes` and returns the reply with transaction `transaction`, skipping other
    /// messages (such as the node's own pings to verify us).
    pub async fn ask(&self, to: SocketAddr, bytes: &[u8], transaction: &[u8]) -> Message {
        self.send(to, bytes).await;
        loop {
            let message = self.receive_from(to).await;
            if message.transaction == transaction {
                return message;
            }
        }
    }
}
