//! The session actor: one per [`Session`](crate::Session) handle; the listening socket, the
//! set of torrents, the session-wide connection slots and the worker Arbiters.
//!
//! # What it owns
//! The listener (as its stream of accepted sockets), a supervisor address and event sender
//! per torrent, an immutable snapshot of our handshake reply per info-hash (handed to each
//! incoming handshake, so routing needs no round trip), the semaphore of connection slots
//! (`max_connections`, taken by every connection, incoming or outgoing, for its whole life),
//! the session-wide rate limits ([`SessionLimits`], shared by every connection), and one
//! worker Arbiter per core that connections are spread over.
//!
//! # Messages in and out
//! In ([`msg`]): `AddTorrent`, `AddMagnet`, `GetTorrent`, `GetTorrentEvents`,
//! `GetTorrentStats`, `PauseTorrent`, `ResumeTorrent`, `ListTorrents`, `RemoveTorrent`,
//! `Shutdown`, all from the handles; `MetadataFetched` from a metadata fetcher; and accepted
//! sockets from the listener.
//! Out: `IncomingPeer` (`do_send`) to the supervisor (or, for a magnet link still fetching
//! its metadata, the metadata fetcher) whose info-hash a handshake named, with the socket
//! detached from this runtime; `GetStats`, `Pause`, `Resume` forwarded from handles;
//! `Shutdown` (`send().await`) to supervisors and fetchers, then to the DHT node (if
//! `dht.enabled`), whose `Announce` recipient every supervisor gets (`GetPeers` for a
//! fetcher, which must not announce a torrent that may be private).
//!
//! # Magnet links
//! See `magnet`: a `MetadataFetcher` runs the torrent until its metadata arrives, then the
//! session starts the supervisor on the same event channel and stops the fetcher.
//!
//! # Incoming connections
//! Each accepted socket needs a free slot (else it is closed at once). Its handshake runs as
//! a future on this actor's context, not blocking it, with the handshake time limit; a
//! handshake for an unknown info-hash gets no reply (BEP 3 leaves that open; silence tells a
//! scanner nothing).
//!
//! # Timers
//! None.
//!
//! # What stops it
//! [`msg::Shutdown`].

mod handlers;
mod magnet;
pub mod msg;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use actix::prelude::Stream;
use actix::{Actor, ActorFutureExt, Arbiter, AsyncContext, Context, WrapFuture};
use bt_proto::wire::Handshake;
use bt_proto::{InfoHash, PeerId};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{Span, debug, info};

use crate::actors::census::{ActorCensus, ActorKind, Alive};
use crate::actors::supervisor::msg::IncomingPeer;
use crate::config::EngineConfig;
use crate::peer::incoming_handshake;
use crate::shaping::SessionLimits;
use msg::TorrentLink;

/// Everything a [`Session`] actor is built from.
#[derive(Debug)]
pub struct SessionSetup {
    /// The configuration.
    pub config: Arc<EngineConfig>,
    /// The bound listener (bound by the handle, so it can report the address at once).
    pub listener: TcpListener,
    /// Our peer id, for every torrent.
    pub peer_id: PeerId,
    /// The census every actor of the session counts itself in.
    pub census: ActorCensus,
    /// The session's DHT node, if `dht.enabled` (started by the handle).
    pub dht: Option<bt_dht::DhtHandle>,
}

/// The session actor; see the module docs.
#[derive(Debug)]
pub struct Session {
    config: Arc<EngineConfig>,
    peer_id: PeerId,
    listen_port: u16,
    listener: Option<TcpListener>,
    torrents: HashMap<InfoHash, TorrentLink>,
    /// Magnet links whose metadata is being fetched (`magnet`).
    fetching: HashMap<InfoHash, magnet::FetchLink>,
    /// Our handshake per torrent, shared read-only with the handshakes in progress.
    routes: Arc<HashMap<InfoHash, Handshake>>,
    slots: Arc<Semaphore>,
    /// The session's upload and download buckets, handed to every torrent.
    limits: SessionLimits,
    arbiters: Vec<Arbiter>,
    census: ActorCensus,
    /// The DHT node, handed to every torrent and stopped after them.
    dht: Option<bt_dht::DhtHandle>,
    span: Span,
    _alive: Alive,
}

impl Session {
    /// Builds the actor; `.start()` it inside an actix `System`.
    pub fn new(setup: SessionSetup) -> Self {
        let listen_port = setup.listener.local_addr().map_or(0, |a| a.port());
        let span = tracing::info_span!("session", port = listen_port);
        Self {
            slots: Arc::new(Semaphore::new(setup.config.max_connections)),
            limits: SessionLimits::new(
                setup.config.upload_limit,
                setup.config.download_limit,
                std::time::Instant::now(),
            ),
            config: setup.config,
            peer_id: setup.peer_id,
            listen_port,
            listener: Some(setup.listener),
            torrents: HashMap::new(),
            fetching: HashMap::new(),
            routes: Arc::new(HashMap::new()),
            arbiters: Vec::new(),
            _alive: setup.census.enter(ActorKind::Session),
            census: setup.census,
            dht: setup.dht,
            span,
        }
    }

    /// Rebuilds the handshake routes after the torrents changed.
    fn update_routes(&mut self) {
        let reserved = crate::actors::supervisor::our_reserved();
        let routes = self
            .torrents
            .keys()
            .chain(self.fetching.keys())
            .map(|hash| (*hash, Handshake::new(reserved, *hash, self.peer_id)))
            .collect();
        self.routes = Arc::new(routes);
    }

    /// Handshakes an accepted socket off the actor's turn, then hands it to its torrent.
    fn accept(&mut self, ctx: &mut Context<Self>, stream: TcpStream, addr: SocketAddr) {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            debug!(parent: &self.span, %addr, "connection limit reached, refused");
            return;
        };
        let routes = Arc::clone(&self.routes);
        let limit = self.config.handshake_timeout();
        let handshake = async move {
            let mut stream = stream;
            let handshakes =
                incoming_handshake(&mut stream, |hash| routes.get(hash).copied(), limit).await?;
            let stream = stream.into_std()?;
            Ok::<_, crate::peer::PeerError>((stream, handshakes))
        };
        ctx.spawn(
            handshake
                .into_actor(self)
                .map(move |result, act, _| match result {
                    Ok((stream, handshakes)) => {
                        let hash = handshakes.ours.info_hash;
                        let incoming = IncomingPeer {
                            stream,
                            addr,
                            handshakes,
                            permit,
                        };
                        if let Some(torrent) = act.torrents.get(&hash) {
                            torrent.supervisor.do_send(incoming);
                        } else if let Some(fetch) = act.fetching.get(&hash) {
                            fetch.fetcher.do_send(incoming);
                        } // else: removed while the handshake ran.
                    }
                    Err(error) => {
                        debug!(parent: &act.span, %addr, %error, "incoming handshake failed")
                    }
                }),
        );
    }
}

/// The listener as a stream of accepted sockets.
struct Incoming(TcpListener);

impl Stream for Incoming {
    type Item = io::Result<(TcpStream, SocketAddr)>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_accept(cx).map(Some)
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let count = self.config.arbiter_count();
        self.arbiters = (0..count).map(|_| Arbiter::new()).collect();
        if let Some(listener) = self.listener.take() {
            ctx.add_stream(Incoming(listener));
        }
        info!(parent: &self.span, peer_id = %self.peer_id, arbiters = count, "session started");
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
        info!(parent: &self.span, "session stopped");
    }
}
