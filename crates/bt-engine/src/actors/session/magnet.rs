//! The session's side of magnet links: it starts a [`MetadataFetcher`] for each, routes
//! handles and incoming connections to it while the metadata is fetched, and on
//! [`MetadataFetched`] starts the torrent's supervisor on the same event channel, hands it
//! the peers the fetch knew, and stops the fetcher.
//!
//! Handles reach their torrent through the session ([`GetTorrentStats`], [`PauseTorrent`],
//! [`ResumeTorrent`]), so one handle serves the torrent before and after the switch.

use std::path::PathBuf;
use std::sync::Arc;

use actix::{Actor, Addr, AsyncContext, Context, Handler, ResponseFuture};
use bt_proto::InfoHash;
use tokio::sync::broadcast;
use tracing::{error, info};

use super::Session;
use super::handlers::EVENT_CAPACITY;
use super::msg::{
    AddMagnet, AddTorrent, GetTorrentEvents, GetTorrentStats, PauseTorrent, ResumeTorrent,
};
use crate::EngineError;
use crate::actors::announcer::DhtLink;
use crate::actors::metadata::msg::MetadataFetched;
use crate::actors::metadata::{MetadataFetcher, MetadataFetcherSetup};
use crate::actors::supervisor::msg::{
    BanPeers, GetStats, Pause, PeerSource, PeersDiscovered, Resume, Shutdown,
};
use crate::strategies::Strategies;
use crate::torrent::{TorrentEvent, TorrentStats};

/// A magnet link whose metadata is being fetched, and how to run its torrent after.
#[derive(Debug)]
pub(super) struct FetchLink {
    pub(super) fetcher: Addr<MetadataFetcher>,
    pub(super) events: broadcast::Sender<TorrentEvent>,
    download_dir: PathBuf,
    strategies: Strategies,
    files: Option<Vec<usize>>,
}

impl Handler<AddMagnet> for Session {
    type Result = Result<broadcast::Sender<TorrentEvent>, EngineError>;

    fn handle(&mut self, msg: AddMagnet, ctx: &mut Context<Self>) -> Self::Result {
        let info_hash = msg.magnet.info_hash;
        if self.knows(info_hash) {
            return Err(EngineError::DuplicateTorrent(info_hash));
        }
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let fetcher = MetadataFetcher::new(MetadataFetcherSetup {
            magnet: msg.magnet,
            config: Arc::clone(&self.config),
            peer_id: self.peer_id,
            listen_port: self.listen_port,
            slots: Arc::clone(&self.slots),
            events: events.clone(),
            census: self.census.clone(),
            paused: msg.paused,
            done: ctx.address().recipient(),
            // Lookups only: the torrent may turn out to be private (BEP 27).
            dht: DhtLink::search_only(self.dht_search(), self.config.dht.announce_interval()),
        })
        .start();
        let link = FetchLink {
            fetcher,
            events: events.clone(),
            download_dir: msg.download_dir,
            strategies: msg.strategies,
            files: msg.files,
        };
        self.fetching.insert(info_hash, link);
        self.update_routes();
        Ok(events)
    }
}

impl Handler<MetadataFetched> for Session {
    type Result = ();

    fn handle(&mut self, msg: MetadataFetched, _: &mut Context<Self>) {
        let Some(link) = self.fetching.remove(&msg.info_hash) else {
            return; // Removed while the last piece was on its way.
        };
        link.fetcher.do_send(Shutdown);
        // Not paused: a paused fetcher fetches nothing, so the metadata came while it ran.
        let add = AddTorrent {
            metainfo: Arc::clone(&msg.metainfo),
            download_dir: link.download_dir,
            paused: false,
            strategies: link.strategies,
            files: link.files,
        };
        let started = self.start_torrent(add, link.events.clone());
        match started {
            Ok(torrent) => {
                info!(parent: &self.span, info_hash = %msg.info_hash.short(), "magnet resolved");
                if !msg.banned.is_empty() {
                    torrent.supervisor.do_send(BanPeers { addrs: msg.banned });
                }
                if !msg.peers.is_empty() {
                    torrent.supervisor.do_send(PeersDiscovered {
                        peers: msg.peers,
                        seeds: Vec::new(),
                        source: PeerSource::Magnet,
                    });
                }
                self.torrents.insert(msg.info_hash, torrent);
            }
            Err(failure) => {
                error!(parent: &self.span, %failure, "torrent from a magnet link cannot start");
                let _ = link.events.send(TorrentEvent::Error(failure));
            }
        }
        self.update_routes();
    }
}

impl Handler<GetTorrentEvents> for Session {
    type Result = Option<broadcast::Sender<TorrentEvent>>;

    fn handle(&mut self, msg: GetTorrentEvents, _: &mut Context<Self>) -> Self::Result {
        match (
            self.torrents.get(&msg.info_hash),
            self.fetching.get(&msg.info_hash),
        ) {
            (Some(torrent), _) => Some(torrent.events.clone()),
            (None, Some(fetch)) => Some(fetch.events.clone()),
            (None, None) => None,
        }
    }
}

/// Where a handle's request goes now.
enum Target {
    Torrent(Addr<crate::actors::supervisor::TorrentSupervisor>),
    Fetch(Addr<MetadataFetcher>),
}

impl Session {
    /// Whether the session has this torrent, running or fetching its metadata.
    pub(super) fn knows(&self, info_hash: InfoHash) -> bool {
        self.torrents.contains_key(&info_hash) || self.fetching.contains_key(&info_hash)
    }

    fn target(&self, info_hash: InfoHash) -> Result<Target, EngineError> {
        if let Some(torrent) = self.torrents.get(&info_hash) {
            return Ok(Target::Torrent(torrent.supervisor.clone()));
        }
        self.fetching
            .get(&info_hash)
            .map(|fetch| Target::Fetch(fetch.fetcher.clone()))
            .ok_or(EngineError::UnknownTorrent(info_hash))
    }
}

impl Handler<GetTorrentStats> for Session {
    type Result = ResponseFuture<Result<TorrentStats, EngineError>>;

    fn handle(&mut self, msg: GetTorrentStats, _: &mut Context<Self>) -> Self::Result {
        let target = self.target(msg.info_hash);
        Box::pin(async move {
            Ok(match target? {
                Target::Torrent(supervisor) => supervisor.send(GetStats).await?,
                Target::Fetch(fetcher) => fetcher.send(GetStats).await?,
            })
        })
    }
}

impl Handler<PauseTorrent> for Session {
    type Result = ResponseFuture<Result<(), EngineError>>;

    fn handle(&mut self, msg: PauseTorrent, _: &mut Context<Self>) -> Self::Result {
        let target = self.target(msg.info_hash);
        Box::pin(async move {
            match target? {
                Target::Torrent(supervisor) => supervisor.send(Pause).await?,
                Target::Fetch(fetcher) => fetcher.send(Pause).await?,
            }
            Ok(())
        })
    }
}

impl Handler<ResumeTorrent> for Session {
    type Result = ResponseFuture<Result<(), EngineError>>;

    fn handle(&mut self, msg: ResumeTorrent, _: &mut Context<Self>) -> Self::Result {
        let target = self.target(msg.info_hash);
        Box::pin(async move {
            match target? {
                Target::Torrent(supervisor) => supervisor.send(Resume).await?,
                Target::Fetch(fetcher) => fetcher.send(Resume).await?,
            }
            Ok(())
        })
    }
}
