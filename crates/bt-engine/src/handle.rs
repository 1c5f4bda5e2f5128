//! The embedding API: [`Session`] and [`TorrentHandle`], cheap-to-clone handles to the
//! session's actors.
//!
//! Every method must run inside an actix `System` (the actors live there): in a plain
//! `fn main`, start one with `actix::System::new().block_on(...)`; in tests, use
//! `#[actix::test]`.
//!
//! ```
//! use bt_engine::{EngineConfig, Session};
//!
//! fn main() -> Result<(), bt_engine::EngineError> {
//!     actix::System::new().block_on(async {
//!         let config = EngineConfig {
//!             listen: "127.0.0.1:0".parse().expect("an address"),
//!             arbiters: 1,
//!             ..EngineConfig::default()
//!         };
//!         let session = Session::start(config).await?;
//!         assert_ne!(session.local_addr().port(), 0);
//!         // session.add_torrent(metainfo, AddTorrentOptions::new(dir)).await? ...
//!         session.shutdown().await;
//!         Ok(())
//!     })
//! }
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use bt_proto::magnet::MagnetLink;
use bt_proto::metainfo::Metainfo;
use bt_proto::{InfoHash, PeerId};
use tokio::sync::broadcast;

use crate::EngineError;
use crate::actors::census::{ActorCensus, ActorKind};
use crate::actors::session::msg::{
    AddMagnet, AddTorrent, GetTorrentEvents, GetTorrentStats, ListTorrents, PauseTorrent,
    RemoveTorrent, ResumeTorrent, Shutdown,
};
use crate::actors::session::{Session as SessionActor, SessionSetup};
use crate::config::EngineConfig;
use crate::strategies::Strategies;
use crate::torrent::{TorrentEvent, TorrentStats};

/// How a torrent is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddTorrentOptions {
    /// The directory holding the torrent's files: `DIR/NAME` for a single file, `DIR/NAME/...`
    /// for a multi-file torrent. It must exist.
    pub download_dir: PathBuf,
    /// Check the data on disk, then stay paused until [`TorrentHandle::resume`].
    pub paused: bool,
    /// The embedder's own choking strategy or piece picker, if any; the configured ones
    /// otherwise (`choke.strategy`, `picker.order`).
    pub strategies: Strategies,
    /// Download only these files (indices in metainfo order, as `bt info` numbers them);
    /// `None` for all. Pieces holding no byte of a wanted file are not fetched, files that
    /// share no piece with a wanted one are not created, and the torrent completes once every
    /// wanted piece is verified (see [`FileSelection`](crate::selection::FileSelection)).
    pub files: Option<Vec<usize>>,
}

impl AddTorrentOptions {
    /// Download into (or seed from) `download_dir`, starting at once.
    pub fn new(download_dir: impl Into<PathBuf>) -> Self {
        Self {
            download_dir: download_dir.into(),
            paused: false,
            strategies: Strategies::default(),
            files: None,
        }
    }

    /// Runs the torrent with `strategies` (see [`Strategies`]).
    pub fn with_strategies(mut self, strategies: Strategies) -> Self {
        self.strategies = strategies;
        self
    }

    /// Download only the files with these indices.
    pub fn with_files(mut self, files: impl IntoIterator<Item = usize>) -> Self {
        self.files = Some(files.into_iter().collect());
        self
    }
}

/// A running session: a listening socket and a set of torrents. Clones share the session;
/// [`Session::shutdown`] ends it for all of them.
#[derive(Debug, Clone)]
pub struct Session {
    actor: Addr<SessionActor>,
    local_addr: SocketAddr,
    peer_id: PeerId,
    census: ActorCensus,
    dht: Option<bt_dht::DhtHandle>,
}

impl Session {
    /// Binds `config.listen` and starts the session's actors. Must run inside an actix
    /// `System`.
    pub async fn start(config: EngineConfig) -> Result<Session, EngineError> {
        config.validate()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| EngineError::Listen {
                addr: config.listen,
                message: e.to_string(),
            })?;
        let local_addr = listener.local_addr().map_err(|e| EngineError::Listen {
            addr: config.listen,
            message: e.to_string(),
        })?;
        let peer_id = PeerId::with_random_suffix(rand::random());
        let census = ActorCensus::new();
        let dht = if config.dht.enabled {
            let node = bt_dht::DhtNode::start(config.dht.node.clone())
                .await
                .map_err(|e| EngineError::Listen {
                    addr: config.dht.node.listen,
                    // The OS message (address in use, permission denied).
                    message: std::error::Error::source(&e)
                        .map_or_else(|| e.to_string(), ToString::to_string),
                })?;
            Some(node)
        } else {
            None
        };
        let actor = SessionActor::new(SessionSetup {
            config: Arc::new(config),
            listener,
            peer_id,
            census: census.clone(),
            dht: dht.clone(),
        })
        .start();
        Ok(Session {
            actor,
            local_addr,
            peer_id,
            census,
            dht,
        })
    }

    /// The session's DHT node (`dht.enabled`): its address, statistics and lookups.
    pub fn dht(&self) -> Option<&bt_dht::DhtHandle> {
        self.dht.as_ref()
    }

    /// The address the session accepts peers on (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Our peer id, the same for every torrent of the session.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Adds a torrent: it checks the data in `options.download_dir`, then downloads what is
    /// missing and seeds what it has. Subscribe to its events through the returned handle.
    pub async fn add_torrent(
        &self,
        metainfo: Metainfo,
        options: AddTorrentOptions,
    ) -> Result<TorrentHandle, EngineError> {
        check_download_dir(&options)?;
        let link = self
            .actor
            .send(AddTorrent {
                metainfo: Arc::new(metainfo),
                download_dir: options.download_dir,
                paused: options.paused,
                strategies: options.strategies,
                files: options.files,
            })
            .await??;
        Ok(self.handle(link.info_hash, link.events))
    }

    /// Adds a magnet link (BEP 9): the torrent starts in
    /// [`TorrentState::FetchingMetadata`](crate::TorrentState::FetchingMetadata), finds peers
    /// through the link's `tr=` trackers, its `x.pe=` peers (IP literals) and, with
    /// `dht.enabled`, the DHT, fetches the info dictionary from them and checks it against
    /// the info-hash, then goes on like a torrent added with [`Session::add_torrent`] with
    /// the same `options` (a `MetadataReceived` event marks the switch; `options.files` is
    /// checked against the metadata then). The handle serves the torrent throughout.
    pub async fn add_magnet(
        &self,
        magnet: MagnetLink,
        options: AddTorrentOptions,
    ) -> Result<TorrentHandle, EngineError> {
        check_download_dir(&options)?;
        let info_hash = magnet.info_hash;
        let events = self
            .actor
            .send(AddMagnet {
                magnet,
                download_dir: options.download_dir,
                paused: options.paused,
                strategies: options.strategies,
                files: options.files,
            })
            .await??;
        Ok(self.handle(info_hash, events))
    }

    /// The torrent with this info-hash, if the session has it.
    pub async fn torrent(&self, info_hash: InfoHash) -> Option<TorrentHandle> {
        let events = self
            .actor
            .send(GetTorrentEvents { info_hash })
            .await
            .ok()??;
        Some(self.handle(info_hash, events))
    }

    fn handle(
        &self,
        info_hash: InfoHash,
        events: broadcast::Sender<TorrentEvent>,
    ) -> TorrentHandle {
        TorrentHandle {
            info_hash,
            session: self.actor.clone(),
            events,
        }
    }

    /// Every torrent's info-hash.
    pub async fn torrents(&self) -> Vec<InfoHash> {
        self.actor.send(ListTorrents).await.unwrap_or_default()
    }

    /// Pauses a torrent (see [`TorrentHandle::pause`]).
    pub async fn pause(&self, info_hash: InfoHash) -> Result<(), EngineError> {
        self.require(info_hash).await?.pause().await
    }

    /// Resumes a torrent (see [`TorrentHandle::resume`]).
    pub async fn resume(&self, info_hash: InfoHash) -> Result<(), EngineError> {
        self.require(info_hash).await?.resume().await
    }

    /// A torrent's statistics (see [`TorrentHandle::stats`]).
    pub async fn stats(&self, info_hash: InfoHash) -> Result<TorrentStats, EngineError> {
        self.require(info_hash).await?.stats().await
    }

    /// A torrent's events (see [`TorrentHandle::subscribe`]).
    pub async fn subscribe(
        &self,
        info_hash: InfoHash,
    ) -> Result<broadcast::Receiver<TorrentEvent>, EngineError> {
        Ok(self.require(info_hash).await?.subscribe())
    }

    /// Shuts a torrent down (announcing `stopped`) and forgets it; its files stay on disk.
    pub async fn remove(&self, info_hash: InfoHash) -> Result<(), EngineError> {
        self.actor.send(RemoveTorrent { info_hash }).await?
    }

    /// Shuts every torrent down (each announces `stopped`, bounded by the announcer's stop
    /// timeout), closes the listener and stops the worker Arbiters. Returns once the torrents
    /// have stopped; connections still closing on other threads finish shortly after (see
    /// [`Session::wait_stopped`]).
    pub async fn shutdown(&self) {
        let _ = self.actor.send(Shutdown).await;
    }

    /// The kinds of actor still alive, with their counts; empty once everything stopped.
    pub fn live_actors(&self) -> Vec<(ActorKind, usize)> {
        self.census.alive()
    }

    /// Waits until every actor of the session has stopped (after [`Session::shutdown`]);
    /// returns the ones still alive after `timeout`, if any.
    pub async fn wait_stopped(&self, timeout: Duration) -> Result<(), Vec<(ActorKind, usize)>> {
        self.census.wait_empty(timeout).await
    }

    async fn require(&self, info_hash: InfoHash) -> Result<TorrentHandle, EngineError> {
        self.torrent(info_hash)
            .await
            .ok_or(EngineError::UnknownTorrent(info_hash))
    }
}

/// Fails unless the options' download directory exists.
fn check_download_dir(options: &AddTorrentOptions) -> Result<(), EngineError> {
    if options.download_dir.is_dir() {
        return Ok(());
    }
    Err(EngineError::DownloadDir(format!(
        "{} is not a directory",
        options.download_dir.display()
    )))
}

/// A handle to one torrent of a [`Session`]. Cheap to clone. Requests go through the
/// session to whichever actor runs the torrent, so a magnet link's handle keeps working once
/// the metadata arrived.
#[derive(Debug, Clone)]
pub struct TorrentHandle {
    info_hash: InfoHash,
    session: Addr<SessionActor>,
    events: broadcast::Sender<TorrentEvent>,
}

impl TorrentHandle {
    /// The torrent's info-hash.
    pub fn info_hash(&self) -> InfoHash {
        self.info_hash
    }

    /// A receiver of the torrent's events from now on. A subscriber that falls more than
    /// 1024 events behind gets `RecvError::Lagged` and continues with the newest; check
    /// [`TorrentHandle::stats`] after subscribing for what happened before.
    pub fn subscribe(&self) -> broadcast::Receiver<TorrentEvent> {
        self.events.subscribe()
    }

    /// The torrent's statistics now.
    pub async fn stats(&self) -> Result<TorrentStats, EngineError> {
        let info_hash = self.info_hash;
        self.session.send(GetTorrentStats { info_hash }).await?
    }

    /// Closes every connection, announces `stopped`, and stays idle until resumed.
    pub async fn pause(&self) -> Result<(), EngineError> {
        let info_hash = self.info_hash;
        self.session.send(PauseTorrent { info_hash }).await?
    }

    /// Announces `started` and connects again after a pause.
    pub async fn resume(&self) -> Result<(), EngineError> {
        let info_hash = self.info_hash;
        self.session.send(ResumeTorrent { info_hash }).await?
    }
}
