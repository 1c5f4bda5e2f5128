//! What embedders see of a torrent: its state, its statistics and the events it emits.
//!
//! The torrent's supervisor produces these; the [`Session`](crate::Session) handle and
//! [`TorrentHandle`](crate::TorrentHandle) hand them out. They are plain data, `Clone`, and
//! carry no actor addresses.

use std::net::SocketAddr;

use bt_proto::{InfoHash, PeerId};

use crate::EngineError;

/// Where a torrent is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TorrentState {
    /// A magnet link's torrent: fetching the info dictionary from peers (BEP 9) before
    /// anything else; its statistics know no pieces yet.
    FetchingMetadata,
    /// Hashing the data already on disk to find the pieces we have (resume).
    Checking,
    /// Fetching the pieces we lack (and serving those we have).
    Downloading,
    /// Every piece is verified; serving only.
    Seeding,
    /// No connections and no announces until resumed.
    Paused,
    /// Stopped by a torrent-fatal error (disk full, permission denied, ...), named here.
    Error(EngineError),
    /// Shut down or removed.
    Stopped,
}

/// One connected peer, as the statistics show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's address (for incoming connections, its ephemeral port).
    pub addr: SocketAddr,
    /// The peer id from its handshake.
    pub peer_id: PeerId,
    /// The client name and version from its extension handshake (BEP 10 `v`), if it sent one.
    pub client: Option<String>,
    /// Whether we dialled it (true) or it dialled us.
    pub outgoing: bool,
    /// Payload bytes received from it so far.
    pub downloaded: u64,
    /// Payload bytes sent to it so far.
    pub uploaded: u64,
    /// Bytes per second from it, averaged over the rate window.
    pub download_rate: u64,
    /// Bytes per second to it.
    pub upload_rate: u64,
}

/// A snapshot of a torrent's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorrentStats {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Its name from the metainfo.
    pub name: String,
    /// Where it is in its life.
    pub state: TorrentState,
    /// Pieces verified on disk.
    pub pieces_have: u32,
    /// Pieces in the torrent.
    pub pieces_total: u32,
    /// Bytes in the torrent.
    pub total_len: u64,
    /// Bytes of the pieces we still lack.
    pub left: u64,
    /// Payload bytes received from peers since the torrent was added (this run), including
    /// the connections that have closed.
    pub downloaded: u64,
    /// Payload bytes sent to peers since the torrent was added (this run).
    pub uploaded: u64,
    /// Bytes per second received, summed over the connected peers.
    pub download_rate: u64,
    /// Bytes per second sent.
    pub upload_rate: u64,
    /// The connected peers.
    pub peers: Vec<PeerInfo>,
    /// Outgoing connection attempts in progress.
    pub connecting: usize,
}

impl TorrentStats {
    /// Whether every piece is verified on disk. False while a magnet link's metadata is
    /// being fetched (no pieces are known then; a torrent always has at least one).
    pub fn is_complete(&self) -> bool {
        self.pieces_total > 0 && self.pieces_have == self.pieces_total
    }
}

/// Something that happened to a torrent, for subscribers
/// ([`TorrentHandle::subscribe`](crate::TorrentHandle::subscribe)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TorrentEvent {
    /// The state changed.
    StateChanged(TorrentState),
    /// A piece passed its hash check and was announced to the peers.
    PieceVerified {
        /// The piece's index.
        piece: u32,
        /// Pieces verified so far.
        have: u32,
        /// Pieces in the torrent.
        total: u32,
    },
    /// Transfer totals, sent every statistics interval while something moves.
    Progress {
        /// Pieces verified so far.
        have: u32,
        /// Pieces in the torrent.
        total: u32,
        /// Payload bytes received this run.
        downloaded: u64,
        /// Payload bytes sent this run.
        uploaded: u64,
        /// Connected peers.
        peers: usize,
    },
    /// Every piece is verified on disk (sent once per run, also for a torrent found complete
    /// by the resume check).
    Completed,
    /// A magnet link's metadata arrived from peers and hashes to its info-hash; the torrent
    /// goes on to check its files and download.
    MetadataReceived {
        /// The torrent's name from the metadata.
        name: String,
    },
    /// A torrent-fatal error; the torrent is now in [`TorrentState::Error`].
    Error(EngineError),
    /// A peer connection was set up.
    PeerConnected {
        /// Its address.
        addr: SocketAddr,
    },
    /// A peer connection ended.
    PeerDisconnected {
        /// Its address.
        addr: SocketAddr,
        /// Why, in words (a wire error, a time-out, a ban, ...).
        reason: String,
    },
}
