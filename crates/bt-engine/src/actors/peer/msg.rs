//! Messages the [`PeerSession`](super::PeerSession) handles: commands from the choker, the
//! piece manager and the supervisor, and the choker's query.
//!
//! # Backpressure
//! All are small control messages sent with `do_send` (unbounded, but each sender sends at
//! most one per peer per event: a rechoke, a verified piece, an interest change, a cancel
//! batch, work after a refusal, the disk caught up), except [`GetChokeInfo`], which the choker `send`s and awaits with a timeout.

use std::sync::Arc;

use actix::Message;
use bt_proto::ext::PexPeer;
use bt_proto::geometry::{BlockRef, PieceIndex};

use crate::choker::ChokePeer;

/// Stop uploading to the peer (from the choker): CHOKE, and its queued requests are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Choke;

/// Start uploading to the peer (from the choker): UNCHOKE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Unchoke;

/// We verified a piece (from the supervisor): HAVE, and the piece may be served from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Have {
    /// The piece.
    pub piece: PieceIndex,
}

/// Withdraw requests (from the piece manager: endgame copies that arrived elsewhere, pieces no
/// longer wanted): CANCEL for each block still outstanding.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct CancelBlocks {
    /// The blocks.
    pub blocks: Vec<BlockRef>,
}

/// Tell the peer whether we want its pieces (from the piece manager): INTERESTED or NOT
/// INTERESTED when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct SetInterest {
    /// Whether the peer has pieces we want.
    pub interested: bool,
}

/// There may be work again (from the piece manager, to a connection whose last
/// `RequestBlocks` got nothing: the disk was behind, or nothing could be picked then): ask
/// for blocks if the pipeline has room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct WorkAvailable;

/// The disk caught up (from the piece manager): a connection that stopped reading from its
/// socket because the torrent's [`DiskBacklog`](crate::actors::piece_manager::DiskBacklog)
/// was full reads again; to one that did not stop, it means nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct ResumeReading;

/// Why we close a connection that did nothing wrong on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// Pieces the peer contributed to failed their hash check too often (its address is
    /// banned for the torrent).
    Banned,
    /// The torrent is pausing, stopping or being removed.
    TorrentStopping,
    /// Both sides have every piece: nothing can flow either way.
    BothSeeds,
    /// Another connection to the same peer is kept instead.
    Duplicate,
}

/// Close the connection (from the supervisor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    /// Reported back in the session's `PeerDisconnected` event.
    pub reason: DisconnectReason,
}

/// Query (from the choker): the peer's flags and rates now, as the choke strategy sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "ChokePeer")]
pub struct GetChokeInfo;

/// The torrent's connected peers (from the supervisor, once per PEX interval): the connection
/// tells its peer what changed since its last BEP 11 message, if the peer speaks PEX.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct UpdatePex {
    /// Every connected peer's listen address and flags, shared by all connections.
    pub peers: Arc<[PexPeer]>,
}
