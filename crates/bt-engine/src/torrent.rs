//! What embedders see of a torrent: its state, its statistics and the events it emits.
//!
//! The torrent's supervisor produces these; the [`Session`](crate::Session) handle and
//! [`TorrentHandle`](crate::TorrentHandle) hand them out. They are plain data, `Clone`, and
//! carry no actor addresses.

use std::net::SocketAddr;
use std::time::Duration;

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

/// Payload bytes exchanged with one peer, by peer id, over every connection to it this run
/// (ended ones included): who sent how many bytes to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerTotals {
    /// The peer id from its handshakes.
    pub peer_id: PeerId,
    /// The address of its most recent connection.
    pub addr: SocketAddr,
    /// Payload bytes received from it.
    pub downloaded: u64,
    /// Payload bytes sent to it.
    pub uploaded: u64,
    /// Connections to it this run.
    pub connections: u32,
    /// Whether one of them is open now.
    pub connected: bool,
}

/// One tracker of the torrent and how its last announce went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerInfo {
    /// The URL as written in the torrent.
    pub url: String,
    /// How the last announce went.
    pub status: TrackerHealth,
}

/// How a tracker's last announce went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerHealth {
    /// Not announced to yet.
    NotContacted,
    /// It answered.
    Working {
        /// Usable peers it handed out (ourselves left out).
        peers: usize,
        /// Seeders, if it says.
        seeders: Option<u32>,
        /// Leechers, if it says.
        leechers: Option<u32>,
        /// A `warning message` it sent with its answer.
        warning: Option<String>,
    },
    /// It failed (unreachable, timed out, refused, a bad answer); announcing goes on.
    Failing {
        /// What went wrong, in words.
        error: String,
        /// `None` when the next tracker is tried at once; otherwise every tracker failed,
        /// and the next round starts after this back-off (doubling per failed round).
        retry_in: Option<Duration>,
        /// The tracker answered and refused us (a `failure reason`, a BEP 15 error), as
        /// opposed to being unreachable or garbled: retrying rarely helps.
        refused: bool,
    },
    /// Its URL cannot be used (an `https://` or `wss://` tracker, a malformed URL): it is
    /// never announced to. A torrent whose trackers are all unusable finds peers only when
    /// they connect to it.
    Unusable {
        /// Why, in words ("https trackers are not supported yet").
        error: String,
    },
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
    /// Bytes of the wanted pieces: `total_len` unless only some files were asked for.
    pub wanted_len: u64,
    /// Bytes of the wanted pieces we still lack.
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
    /// Bytes exchanged with every peer this run, connected or not, sorted by peer id (the
    /// most recent ended peers are kept, up to a limit, so memory stays bounded).
    pub peer_totals: Vec<PeerTotals>,
    /// Outgoing connection attempts in progress.
    pub connecting: usize,
    /// The torrent's trackers, in the order of its announce-list, each with how its last
    /// announce went.
    pub trackers: Vec<TrackerInfo>,
}

impl TorrentStats {
    /// Whether every wanted piece is verified on disk (every piece, unless only some files
    /// were asked for). False while a magnet link's metadata is being fetched (no pieces are
    /// known then; a torrent always has at least one) and during the resume check.
    pub fn is_complete(&self) -> bool {
        self.pieces_total > 0 && self.left == 0
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
    /// Every piece is verified on disk, and the files are synced to stable storage (sent once
    /// per run, also for a torrent found complete by the resume check).
    Completed,
    /// A magnet link's metadata arrived from peers and hashes to its info-hash; the torrent
    /// goes on to check its files and download.
    MetadataReceived {
        /// The torrent's name from the metadata.
        name: String,
        /// Its piece length in bytes.
        piece_length: u32,
        /// Whether it is private (BEP 27): then only its trackers find peers from now on.
        private: bool,
    },
    /// The files written so far are on stable storage (`fdatasync`), so a crash of the
    /// machine loses none of the verified pieces: sent before [`TorrentEvent::Completed`],
    /// after a pause, and when the torrent stops (session shutdown or removal).
    DataSynced {
        /// Files flushed this time (0 when nothing was written since the last sync).
        files: usize,
    },
    /// A torrent-fatal error; the torrent is now in [`TorrentState::Error`].
    Error(EngineError),
    /// An announce to a tracker came back (answered or failed), or a tracker was found
    /// unusable when the torrent started; the same news as in [`TorrentStats::trackers`].
    Tracker(TrackerInfo),
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
