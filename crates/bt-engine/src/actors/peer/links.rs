//! [`PeerLinks`]: every recipient a connection talks to, none naming a concrete actor.

use actix::Recipient;

use crate::actors::choker::msg as choker;
use crate::actors::disk::ReadBlock;
use crate::actors::piece_manager::PieceManagerLink;
use crate::actors::supervisor::msg::{
    DiskFailed, ExtensionHandshakeReceived, PeerDisconnected, PeerStatsUpdated, PeersDiscovered,
};

/// Where a connection's events, queries and data go.
#[derive(Debug, Clone)]
pub struct PeerLinks {
    /// The piece manager: availability, block requests and arrivals.
    pub manager: PieceManagerLink,
    /// The choker: the connection joins as it starts.
    pub choker_joined: Recipient<choker::PeerJoined>,
    /// The choker: the connection leaves as it stops.
    pub choker_left: Recipient<choker::PeerLeft>,
    /// The choker: the peer's interest changed.
    pub choker_interest: Recipient<choker::InterestChanged>,
    /// The supervisor: the connection ended, and why.
    pub disconnected: Recipient<PeerDisconnected>,
    /// The supervisor: transfer counters every statistics interval.
    pub stats: Recipient<PeerStatsUpdated>,
    /// The supervisor: a disk read for an upload failed.
    pub disk_failed: Recipient<DiskFailed>,
    /// The disk pool: blocks to upload (`send().await`, a few in flight).
    pub read: Recipient<ReadBlock>,
    /// The supervisor: what the extension protocol brings.
    pub extensions: ExtensionLinks,
}

/// Where a connection's extension-protocol news go (both to the supervisor, `do_send`).
#[derive(Debug, Clone)]
pub struct ExtensionLinks {
    /// The peer's extension handshake: its listen port and client name.
    pub handshake: Recipient<ExtensionHandshakeReceived>,
    /// Peers learned through BEP 11 peer exchange.
    pub discovered: Recipient<PeersDiscovered>,
}
