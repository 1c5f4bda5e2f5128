//! Messages the [`TorrentSupervisor`](super::TorrentSupervisor) handles: events from the
//! torrent's other actors and its connections, accepted connections from the session, and
//! the commands of the embedding API.
//!
//! # Backpressure
//! Every event here is small and sent with `do_send`: at most one per verified piece, per
//! connection end, per statistics interval per connection, per announce. [`IncomingPeer`]
//! carries a socket; the session sends at most one per accepted connection, and those are
//! capped by the session's connection limit (the permit travels with the socket). The
//! commands ([`Pause`], [`Resume`], [`Shutdown`], [`GetStats`]) are `send().await`ed by the
//! handle, one at a time per caller.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use actix::Message;
use bt_proto::geometry::PieceIndex;
use tokio::sync::OwnedSemaphorePermit;

use crate::actors::disk::DiskError;
use crate::actors::peer::msg::DisconnectReason;
use crate::choker::PeerKey;
use crate::peer::{Handshakes, PeerError};
use crate::torrent::TorrentStats;
use crate::tracker::TrackerError;

/// Event (from the piece manager): a piece passed its hash check and is new to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PieceVerified {
    /// The piece.
    pub piece: PieceIndex,
}

/// Event (from the piece manager): a piece failed its hash check; it is downloaded again,
/// the peers behind its contributors get a strike, and the peers that reached the strike
/// limit are to be disconnected and banned.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PieceFailed {
    /// The piece.
    pub piece: PieceIndex,
    /// The connections (live or ended) that sent blocks of it: the supervisor counts strikes
    /// per peer across its connections, which the picker cannot.
    pub struck: Vec<PeerKey>,
    /// Connections the picker banned by this failure (at its per-connection strike limit).
    pub banned: Vec<PeerKey>,
}

/// Event (from the piece manager or a connection): the disk failed a write, a read or a hash;
/// the torrent goes into its error state.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct DiskFailed {
    /// What failed, with the path and the OS message.
    pub error: DiskError,
}

/// A connection's transfer counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerTransfer {
    /// Payload bytes of blocks we requested and got.
    pub downloaded: u64,
    /// Payload bytes of blocks we sent.
    pub uploaded: u64,
    /// Bytes per second from the peer.
    pub download_rate: u64,
    /// Bytes per second to the peer.
    pub upload_rate: u64,
}

/// Event (from a connection, every statistics interval, when something changed): its
/// counters so far, and whether the peer has every piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PeerStatsUpdated {
    /// The connection.
    pub key: PeerKey,
    /// Its counters.
    pub transfer: PeerTransfer,
    /// The peer has every piece (its bitfield, HAVE ALL or HAVEs say so): BEP 11 peer
    /// exchange tells others it is a seed.
    pub seed: bool,
}

/// Why a connection ended.
#[derive(Debug)]
pub enum PeerExit {
    /// The peer broke the protocol, hung up, stalled or could not be reached.
    Error(PeerError),
    /// We closed it.
    Closed(DisconnectReason),
}

impl fmt::Display for PeerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerExit::Error(e) => write!(f, "{e}"),
            PeerExit::Closed(DisconnectReason::Banned) => f.write_str("banned"),
            PeerExit::Closed(DisconnectReason::TorrentStopping) => f.write_str("torrent stopping"),
            PeerExit::Closed(DisconnectReason::BothSeeds) => f.write_str("both seeds"),
            PeerExit::Closed(DisconnectReason::Duplicate) => f.write_str("duplicate connection"),
        }
    }
}

/// Event (from a connection, as it stops): why it ended and its final counters.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct PeerDisconnected {
    /// The connection.
    pub key: PeerKey,
    /// Why it ended.
    pub exit: PeerExit,
    /// Its counters at the end.
    pub transfer: PeerTransfer,
}

/// A connection the session accepted and handshook for this torrent. The supervisor admits
/// it (limits, bans, duplicates) and starts its `PeerSession`, or drops it.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct IncomingPeer {
    /// The socket, detached from the runtime that accepted it so it can move to a worker
    /// Arbiter.
    pub stream: std::net::TcpStream,
    /// The peer's address.
    pub addr: SocketAddr,
    /// Both handshakes (ours carries the reserved bits we offered).
    pub handshakes: Handshakes,
    /// The session-wide connection slot, held for as long as the connection lives.
    pub permit: OwnedSemaphorePermit,
}

/// Command (from the handle): close every connection, announce `stopped`, and stay idle
/// until [`Resume`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Pause;

/// Command (from the handle): announce `started` and connect again after a [`Pause`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Resume;

/// Command (from the session): close every connection, announce `stopped` (bounded by the
/// announcer's stop timeout), stop the torrent's actors and then the supervisor. The reply
/// comes once that is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Query (from the handle): the torrent's statistics now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "TorrentStats")]
pub struct GetStats;

/// Where a batch of peer addresses came from, so the supervisor can attribute and rank them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerSource {
    /// A tracker, by its URL as written in the torrent.
    Tracker(String),
    /// A connected peer's BEP 11 peer exchange (never used for a private torrent, BEP 27).
    Pex,
    /// The peers a magnet link's metadata fetch knew of (from the link's trackers and `x.pe`),
    /// handed over once the metadata arrived; a private torrent takes its trackers' instead.
    Magnet,
    /// The mainline DHT (BEP 5).
    Dht,
}

/// Event (from the announcer, or a connection's peer exchange): peers a tracker or a peer
/// handed out, without duplicates within the batch. Never empty. Trackers' batches come
/// without our own address; PEX batches may hold it (the handshake refuses ourselves).
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct PeersDiscovered {
    /// Addresses to try, in the tracker's order.
    pub peers: Vec<SocketAddr>,
    /// Those of `peers` the source says are seeds (BEP 11's flag 0x02; empty from every other
    /// source): not dialled while we seed.
    pub seeds: Vec<SocketAddr>,
    /// Who told us.
    pub source: PeerSource,
}

/// What one announce to one tracker came to.
#[derive(Debug)]
pub enum TrackerStatus {
    /// The tracker answered.
    Working {
        /// Seeders, if the tracker says, for the user interface.
        seeders: Option<u32>,
        /// Leechers, if the tracker says.
        leechers: Option<u32>,
        /// Usable peers delivered (after filtering ourselves out).
        peers: usize,
        /// A `warning message` the tracker sent with its answer, worth showing to the user.
        warning: Option<String>,
        /// Until the next regular announce.
        next_announce: Duration,
    },
    /// The tracker failed; the announcer moved on to the next tracker, or, when every tracker
    /// failed this round, backs off.
    Failed {
        /// What went wrong.
        error: TrackerError,
        /// `None` when the next tracker is being tried at once; `Some(back-off)` when every
        /// tracker failed and the next round starts after that long.
        retry_in: Option<Duration>,
    },
    /// The tracker's URL cannot be announced to at all (an `https://` or `wss://` tracker, a
    /// malformed URL): it is left out for the torrent's life, and never announced to. Sent
    /// once, when the announcer starts.
    Unusable {
        /// Why ([`TrackerError::UnsupportedScheme`] or [`TrackerError::BadUrl`]).
        error: TrackerError,
    },
}

/// Event (from the announcer): the outcome of an announce to one tracker, for status displays
/// and statistics. Sent after every announce except `stopped` ones, and once at start for
/// each tracker that cannot be used.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct TrackerStatusChanged {
    /// The tracker's URL as written in the torrent.
    pub tracker: String,
    /// What happened.
    pub status: TrackerStatus,
}

/// Event (from a connection): the peer's BEP 10 extension handshake arrived, with what the
/// supervisor keeps of it: where the peer accepts connections (for PEX) and its client name.
/// At most one per extension handshake the peer sends.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct ExtensionHandshakeReceived {
    /// The connection.
    pub key: PeerKey,
    /// The peer's `p`: its listen port.
    pub listen_port: Option<u16>,
    /// The peer's `v`: its client name and version.
    pub client: Option<String>,
}

/// Command (from the session, for a torrent that started as a magnet link): never connect to
/// these addresses; its metadata fetch struck them for bad metadata.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct BanPeers {
    /// The addresses.
    pub addrs: Vec<SocketAddr>,
}
