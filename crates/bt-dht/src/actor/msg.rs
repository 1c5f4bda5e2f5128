//! The messages [`DhtNode`](super::DhtNode) handles, what they return, and [`DhtError`].

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use actix::Message;
use bt_proto::InfoHash;
use thiserror::Error;

use crate::compact::NodeInfo;
use crate::machine::DhtStats;
use crate::state::StateError;

/// Finds the peers of a torrent: a `get_peers` lookup. Replies when the lookup ends (it
/// converged, or ran out of `lookup_timeout_ms`) with the peers found, without duplicates.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<SocketAddr>, DhtError>")]
pub struct GetPeers {
    /// The torrent.
    pub info_hash: InfoHash,
}

/// Announces that we download a torrent: a `get_peers` lookup, then `announce_peer` to the
/// closest nodes that answered. Replies once each of those acknowledged or timed out.
#[derive(Debug, Message)]
#[rtype(result = "Result<AnnounceReport, DhtError>")]
pub struct Announce {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Our peer's TCP port.
    pub port: u16,
}

/// What an [`Announce`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnounceReport {
    /// The peers the lookup found on the way.
    pub peers: Vec<SocketAddr>,
    /// How many nodes acknowledged our `announce_peer`.
    pub announced_to: usize,
}

/// The node's counters and sizes.
#[derive(Debug, Message)]
#[rtype(result = "NodeStats")]
pub struct GetStats;

/// What [`GetStats`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStats {
    /// The UDP address the node is bound to.
    pub local_addr: SocketAddr,
    /// The sans-IO node's counters and sizes.
    pub dht: DhtStats,
    /// Datagrams the socket refused to send (buffer full, unreachable family).
    pub send_failures: u64,
}

/// The nodes of the routing table.
#[derive(Debug, Message)]
#[rtype(result = "Vec<NodeInfo>")]
pub struct GetNodes;

/// Pings a node, which joins the table if it answers (BEP 5: what to do with a peer's `port`
/// message).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct AddNode {
    /// The node's UDP address.
    pub addr: SocketAddr,
}

/// Saves the routing table (if a state file is configured) and stops the node. Lookups still
/// running end with [`DhtError::Stopped`].
#[derive(Debug, Message)]
#[rtype(result = "Result<(), DhtError>")]
pub struct Shutdown;

/// What can go wrong with the DHT node.
#[derive(Debug, Error)]
pub enum DhtError {
    /// The UDP socket could not be bound.
    #[error("cannot bind the DHT socket on {addr}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The state file could not be read.
    #[error("cannot read the DHT state file {path}")]
    ReadState {
        /// The configured path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The state file holds something else than a saved table.
    #[error("invalid DHT state file {path}")]
    InvalidState {
        /// The configured path.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: StateError,
    },
    /// The state file could not be written.
    #[error("cannot write the DHT state file {path}")]
    WriteState {
        /// The configured path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The node stopped before it could answer.
    #[error("the DHT node has stopped")]
    Stopped,
}
