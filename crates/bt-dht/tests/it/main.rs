//! Integration tests of bt-dht over real UDP sockets on 127.0.0.1, in one test binary
//! (`cargo test -p bt-dht --test it`).

// Starting nodes, waiting with time-outs, a raw KRPC client.
mod support;

// One node on the wire: stats, pings from a raw socket, hostile datagrams, AddNode, shutdown.
mod node;
// Thirty nodes on loopback: one announces, another (bootstrapped elsewhere) finds the peer.
mod swarm;
// The routing table saved on shutdown and reloaded by the next run.
mod persist;
// Only the actor module touches actix, tokio, tracing or files.
mod layering;
