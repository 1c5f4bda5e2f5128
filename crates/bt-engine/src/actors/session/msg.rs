//! Messages the session [`Session`](super::Session) actor handles, all from the public
//! [`Session`](crate::Session) and [`TorrentHandle`](crate::TorrentHandle) handles, which
//! `send().await` each (one at a time per caller), but for
//! [`MetadataFetched`](crate::actors::metadata::msg::MetadataFetched), from a metadata
//! fetcher (one per magnet link).

use std::path::PathBuf;
use std::sync::Arc;

use actix::{Addr, Message};
use bt_proto::InfoHash;
use bt_proto::magnet::MagnetLink;
use bt_proto::metainfo::Metainfo;
use tokio::sync::broadcast;

use crate::EngineError;
use crate::actors::supervisor::TorrentSupervisor;
use crate::strategies::Strategies;
use crate::torrent::{TorrentEvent, TorrentStats};

/// What the session knows of one torrent: enough for a handle.
#[derive(Debug, Clone)]
pub struct TorrentLink {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Its supervisor.
    pub supervisor: Addr<TorrentSupervisor>,
    /// Its event channel (subscribe with `.subscribe()`).
    pub events: broadcast::Sender<TorrentEvent>,
}

/// Command: add a torrent (its supervisor starts checking at once).
#[derive(Debug, Message)]
#[rtype(result = "Result<TorrentLink, EngineError>")]
pub struct AddTorrent {
    /// The torrent.
    pub metainfo: Arc<Metainfo>,
    /// Where its files are or go.
    pub download_dir: PathBuf,
    /// Check the data, then stay paused.
    pub paused: bool,
    /// The embedder's choker and picker, if any.
    pub strategies: Strategies,
    /// The files to download (indices), `None` for all.
    pub files: Option<Vec<usize>>,
}

/// Query: the torrent with this info-hash.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<TorrentLink>")]
pub struct GetTorrent {
    /// The torrent.
    pub info_hash: InfoHash,
}

/// Query: every torrent's info-hash.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Vec<InfoHash>")]
pub struct ListTorrents;

/// Command: shut a torrent down (announcing `stopped`) and forget it; its files stay.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct RemoveTorrent {
    /// The torrent.
    pub info_hash: InfoHash,
}

/// Command: shut every torrent down, stop accepting connections and the worker Arbiters,
/// then stop. The reply comes once every torrent has stopped.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Command: add a magnet link (BEP 9): its metadata is fetched from peers, then it goes on as
/// a torrent added with [`AddTorrent`]. The reply is the torrent's event channel.
#[derive(Debug, Message)]
#[rtype(result = "Result<broadcast::Sender<TorrentEvent>, EngineError>")]
pub struct AddMagnet {
    /// The link.
    pub magnet: MagnetLink,
    /// Where its files go.
    pub download_dir: PathBuf,
    /// Fetch nothing until resumed (and check the data, then stay paused, once the metadata
    /// is there).
    pub paused: bool,
    /// The embedder's choker and picker, if any (used once the metadata is there).
    pub strategies: Strategies,
    /// The files to download (indices), `None` for all; checked against the metadata when it
    /// arrives (an index past the last file puts the torrent in error then).
    pub files: Option<Vec<usize>>,
}

/// Query: the torrent's event channel, whether it is fetching its metadata or running.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<broadcast::Sender<TorrentEvent>>")]
pub struct GetTorrentEvents {
    /// The torrent.
    pub info_hash: InfoHash,
}

/// Query: the torrent's statistics, from whichever actor runs it now (its metadata fetcher
/// or its supervisor), so a handle keeps working across the switch.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<TorrentStats, EngineError>")]
pub struct GetTorrentStats {
    /// The torrent.
    pub info_hash: InfoHash,
}

/// Command: pause the torrent (see [`TorrentHandle::pause`](crate::TorrentHandle::pause)).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct PauseTorrent {
    /// The torrent.
    pub info_hash: InfoHash,
}

/// Command: resume the torrent (see [`TorrentHandle::resume`](crate::TorrentHandle::resume)).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct ResumeTorrent {
    /// The torrent.
    pub info_hash: InfoHash,
}
