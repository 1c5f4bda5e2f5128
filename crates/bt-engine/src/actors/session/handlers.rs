//! The session actor's handlers.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use actix::{
    Actor, ActorContext, ActorFutureExt, Context, Handler, MessageResult, Recipient,
    ResponseActFuture, StreamHandler, WrapFuture,
};
use bt_dht::actor::{Announce, GetPeers};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tracing::warn;

use super::Session;
use super::msg::{AddTorrent, GetTorrent, ListTorrents, RemoveTorrent, Shutdown, TorrentLink};
use crate::EngineError;
use crate::actors::pool::ArbiterPool;
use crate::actors::supervisor::msg::Shutdown as StopTorrent;
use crate::actors::supervisor::{SupervisorSetup, TorrentSupervisor};
use crate::torrent::TorrentEvent;

/// Events a subscriber may fall behind by before it misses some (it then gets `Lagged`).
pub(super) const EVENT_CAPACITY: usize = 1024;

impl StreamHandler<io::Result<(TcpStream, SocketAddr)>> for Session {
    fn handle(&mut self, item: io::Result<(TcpStream, SocketAddr)>, ctx: &mut Context<Self>) {
        match item {
            Ok((stream, addr)) => self.accept(ctx, stream, addr),
            // Out of file descriptors and the like: ours to fix; keep listening.
            Err(error) => warn!(parent: &self.span, %error, "accept failed"),
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {
        // A listener never ends on its own; keep the session (and its torrents) running.
    }
}

impl Handler<AddTorrent> for Session {
    type Result = Result<TorrentLink, EngineError>;

    fn handle(&mut self, msg: AddTorrent, _: &mut Context<Self>) -> Self::Result {
        let info_hash = msg.metainfo.info_hash;
        if self.knows(info_hash) {
            return Err(EngineError::DuplicateTorrent(info_hash));
        }
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let link = self.start_torrent(msg, events)?;
        self.torrents.insert(info_hash, link.clone());
        self.update_routes();
        Ok(link)
    }
}

impl Session {
    /// Starts a torrent's supervisor (not yet registered) on the event channel `events`.
    pub(super) fn start_torrent(
        &self,
        add: AddTorrent,
        events: broadcast::Sender<TorrentEvent>,
    ) -> Result<TorrentLink, EngineError> {
        let info_hash = add.metainfo.info_hash;
        let handles = self.arbiters.iter().map(|a| a.handle()).collect();
        let supervisor = TorrentSupervisor::new(SupervisorSetup {
            metainfo: add.metainfo,
            download_dir: add.download_dir,
            config: Arc::clone(&self.config),
            peer_id: self.peer_id,
            listen_port: self.listen_port,
            arbiters: ArbiterPool::new(handles),
            slots: Arc::clone(&self.slots),
            limits: self.limits.clone(),
            events: events.clone(),
            census: self.census.clone(),
            paused: add.paused,
            strategies: add.strategies,
            files: add.files,
            dht: self.dht_node(),
        })?
        .start();
        Ok(TorrentLink {
            info_hash,
            supervisor,
            events,
        })
    }

    /// The DHT node's `Announce` handler, if the session runs one (`dht.enabled`).
    pub(super) fn dht_node(&self) -> Option<Recipient<Announce>> {
        self.dht
            .as_ref()
            .map(|node| node.addr().clone().recipient())
    }

    /// The DHT node's `GetPeers` handler (lookups without `announce_peer`), if the session
    /// runs one.
    pub(super) fn dht_search(&self) -> Option<Recipient<GetPeers>> {
        self.dht
            .as_ref()
            .map(|node| node.addr().clone().recipient())
    }
}

impl Handler<GetTorrent> for Session {
    type Result = Option<TorrentLink>;

    fn handle(&mut self, msg: GetTorrent, _: &mut Context<Self>) -> Self::Result {
        self.torrents.get(&msg.info_hash).cloned()
    }
}

impl Handler<ListTorrents> for Session {
    type Result = MessageResult<ListTorrents>;

    fn handle(&mut self, _: ListTorrents, _: &mut Context<Self>) -> Self::Result {
        let hashes = self.torrents.keys().chain(self.fetching.keys());
        MessageResult(hashes.copied().collect())
    }
}

impl Handler<RemoveTorrent> for Session {
    type Result = ResponseActFuture<Self, Result<(), EngineError>>;

    fn handle(&mut self, msg: RemoveTorrent, _: &mut Context<Self>) -> Self::Result {
        let removed = self.torrents.remove(&msg.info_hash);
        let fetching = self.fetching.remove(&msg.info_hash);
        self.update_routes();
        let stop = async move {
            if let Some(fetch) = fetching {
                fetch.fetcher.send(StopTorrent).await?;
                return Ok(());
            }
            let link = removed.ok_or(EngineError::UnknownTorrent(msg.info_hash))?;
            link.supervisor.send(StopTorrent).await?;
            Ok(())
        };
        Box::pin(stop.into_actor(self))
    }
}

impl Handler<Shutdown> for Session {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Shutdown, _: &mut Context<Self>) -> Self::Result {
        let torrents: Vec<TorrentLink> = self.torrents.drain().map(|(_, link)| link).collect();
        let fetches: Vec<_> = self.fetching.drain().map(|(_, fetch)| fetch).collect();
        self.update_routes();
        // Every request is queued at once, so the torrents stop concurrently.
        let requests: Vec<_> = torrents
            .iter()
            .map(|link| link.supervisor.send(StopTorrent))
            .collect();
        let fetch_requests: Vec<_> = fetches
            .iter()
            .map(|fetch| fetch.fetcher.send(StopTorrent))
            .collect();
        // The DHT node goes last: the torrents' announcers may still be waiting on it.
        let dht = self.dht.take();
        let stop = async move {
            for request in requests {
                let _ = request.await;
            }
            for request in fetch_requests {
                let _ = request.await;
            }
            if let Some(node) = dht
                && let Err(error) = node.shutdown().await
            {
                tracing::warn!(%error, "stopping the DHT node");
            }
        };
        Box::pin(stop.into_actor(self).map(|(), _, ctx| ctx.stop()))
    }
}
