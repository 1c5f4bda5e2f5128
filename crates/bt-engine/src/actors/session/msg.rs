//! Messages the session [`Session`](super::Session) actor handles, all from the public
//! [`Session`](crate::Session) handle, which `send().await`s each (one at a time per caller).

use std::path::PathBuf;
use std::sync::Arc;

use actix::{Addr, Message};
use bt_proto::InfoHash;
use bt_proto::metainfo::Metainfo;
use tokio::sync::broadcast;

use crate::EngineError;
use crate::actors::supervisor::TorrentSupervisor;
use crate::strategies::Strategies;
use crate::torrent::TorrentEvent;

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
