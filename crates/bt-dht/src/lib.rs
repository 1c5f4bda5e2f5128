//! The BitTorrent mainline DHT (BEP 5): find the peers of a torrent with no tracker.
//!
//! The DHT is a Kademlia network of nodes speaking KRPC (bencoded dictionaries over UDP). Each
//! node keeps a routing table of nodes, detailed near its own id, and stores the peers that
//! other nodes announce for info-hashes close to its id. A client finds the peers of a torrent
//! by walking from node to node towards the info-hash (`get_peers`), and announces itself to
//! the nodes closest to it (`announce_peer`, with a token that proves it asked first).
//!
//! Everything but the [`actor`] module is sans-IO: plain structs that take bytes and the time
//! and hand back bytes to send, tested without sockets (whole networks of [`machine::Dht`]s
//! run in memory in its tests). The actor binds the UDP socket, drives the machine from its
//! timer, resolves the bootstrap routers, and saves the routing table between runs.
//!
//! # Layout
//! - [`id`]: [`NodeId`] and the XOR [`id::Distance`].
//! - [`compact`]: compact node and peer info (`nodes`, `nodes6`, `values`).
//! - [`krpc`]: the messages: decoding (hostile input refused with a typed error) and encoding.
//! - [`table`]: the k-bucket [`table::RoutingTable`] (K = 8, splitting, the 15-minute rule,
//!   replacement).
//! - [`token`]: `get_peers` tokens from a secret that rotates every five minutes.
//! - [`peer_store`]: the peers announced to us, with expiry and caps.
//! - [`rate`]: per-IP and global limits on the queries we serve.
//! - [`lookup`]: the iterative lookup (α = 3, the K closest, stop when nothing closer comes).
//! - [`machine`]: [`machine::Dht`], one node: serving queries, our queries with time-outs and
//!   retries, lookups, announces, bootstrap, bucket refresh.
//! - [`state`]: the routing table saved between runs (the file format).
//! - [`config`]: [`DhtConfig`], the actor's configuration (serde), and its defaults.
//! - [`actor`]: [`DhtNode`], the actix actor that owns the UDP socket and a [`machine::Dht`],
//!   and [`DhtHandle`], typed calls on it.
#![warn(missing_docs)]

pub mod actor;
pub mod compact;
pub mod config;
pub mod id;
pub mod krpc;
pub mod lookup;
pub mod machine;
pub mod peer_store;
pub mod rate;
pub mod state;
pub mod table;
pub mod token;

pub use actor::{DhtError, DhtHandle, DhtNode};
pub use config::DhtConfig;
pub use id::NodeId;
pub use machine::{Dht, DhtSettings, DhtStats, LookupOutcome};
