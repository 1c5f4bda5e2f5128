//! `MetadataFetcher`: one per magnet link while the torrent's metadata (its info
//! dictionary) is fetched from peers (BEP 9); then the session starts the torrent's
//! supervisor with it.
//!
//! # What it owns
//! The magnet link, the sans-IO [`MetadataFetch`] (which peer to ask for which piece, the
//! assembler, strikes), an [`Announcer`] for the link's `tr=` trackers (and lookups on the
//! session's DHT node, if it runs one: never `announce_peer`, as the torrent may turn out to
//! be private, BEP 27) with how each tracker's last announce went, the peers known
//! (trackers, the DHT, `x.pe=`) with their dial back-off, the connections (each a task, see
//! `connection`), and the addresses and peer ids struck for bad metadata.
//!
//! # Life
//! 1. Started: `FetchingMetadata` (or `Paused`), the announcer starts (announcing a
//!    placeholder `left` of one block: we have nothing and do not know the size), and the
//!    `x.pe` peers are dialled (host names once resolved, each within a time limit; one that
//!    does not resolve is a warning).
//! 2. Each connection sends our extension handshake (BEP 10) and reports the peer's; a peer
//!    that does not serve `ut_metadata` is closed, one with an oversized `metadata_size` is
//!    struck. Requests go to one source at a time; pieces go to the [`MetadataFetch`].
//! 3. Metadata that fails the info-hash strikes its suppliers (disconnected, their address
//!    and peer id never used again for this fetch); the fetch goes on with other sources.
//! 4. Metadata that checks out becomes a [`Metainfo`](bt_proto::metainfo::Metainfo) (with
//!    the link's trackers): a `MetadataReceived` event, every connection closed, the
//!    announcer detached without `stopped` (the supervisor announces `started` at once), and [`msg::MetadataFetched`]
//!    to the session, which starts the supervisor on the same event channel and then stops
//!    this actor. Metadata that hashes right but is not a valid info dictionary puts the
//!    torrent in `Error`.
//!
//! # Messages in and out
//! In: `PeersDiscovered`, `TrackerStatusChanged` (announcer); `IncomingPeer` (session);
//! `GetStats`, `Pause`, `Resume`, `Shutdown` (handle through the session, session); and
//! [`msg::MetadataPeerEvent`] from its connection tasks. Out: [`msg::MetadataFetched`] to
//! the session; `TorrentEvent`s on the torrent's channel; commands to its connections over
//! their channels.
//!
//! # Timers
//! Every `redial_interval`: dial known peers. Every peer tick: request time-outs and new
//! requests.
//!
//! # What stops it
//! `Shutdown` (from the session, after the switch to a supervisor, or on removal): its
//! connections are closed and, unless the metadata arrived, `stopped` is announced.
//!
//! # Layout
//! - this module: the actor, its setup, its end (the metadata, or an error).
//! - `peers`: dialling, admitting, asking, striking and forgetting peers.
//! - `handlers`: the messages.
//! - `connection`: one connection's task.
//! - `resolve`: the `x.pe` host names, resolved with a time limit.
//! - [`msg`]: its messages.

mod connection;
mod handlers;
pub mod msg;
mod peers;
mod resolve;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Addr, AsyncContext, Context, Recipient};
use bt_proto::ext::metainfo_from_metadata;
use bt_proto::magnet::MagnetLink;
use bt_proto::tracker::AnnounceEvent;
use bt_proto::{InfoHash, PeerId};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Semaphore, broadcast};
use tracing::{Span, debug, info, warn};

use crate::EngineError;
use crate::actors::announcer::msg::{AnnounceNow, Detach};
use crate::actors::announcer::{Announcer, AnnouncerSetup, DhtLink, Progress};
use crate::actors::census::{ActorCensus, ActorKind, Alive};
use crate::actors::peer::msg::DisconnectReason;
use crate::actors::supervisor::trackers;
use crate::choker::PeerKey;
use crate::config::EngineConfig;
use crate::metadata::{FetchConfig, MetadataFetch};
use crate::torrent::{PeerInfo, TorrentEvent, TorrentState, TorrentStats, TrackerInfo};
use connection::Command;
use msg::MetadataFetched;

/// `left` announced while the size is unknown: not 0, which would say we seed.
const PLACEHOLDER_LEFT: u64 = 16 * 1024;

/// Everything a [`MetadataFetcher`] is built from.
#[derive(Debug)]
pub struct MetadataFetcherSetup {
    /// The magnet link.
    pub magnet: MagnetLink,
    /// The session's configuration.
    pub config: Arc<EngineConfig>,
    /// Our peer id.
    pub peer_id: PeerId,
    /// The port we accept connections on.
    pub listen_port: u16,
    /// The session's connection slots.
    pub slots: Arc<Semaphore>,
    /// The torrent's event channel (the supervisor takes it over).
    pub events: broadcast::Sender<TorrentEvent>,
    /// The session's census.
    pub census: ActorCensus,
    /// Start paused: fetch nothing until resumed.
    pub paused: bool,
    /// Where the metadata goes (the session).
    pub done: Recipient<MetadataFetched>,
    /// The session's DHT node, if it runs one, for lookups only ([`DhtLink::search_only`]):
    /// the fetch takes the DHT's peers but never announces there, since whether the torrent
    /// is private is not known before its metadata (BEP 27); from then on the supervisor
    /// announces a public torrent and keeps a private one off the DHT.
    pub dht: Option<DhtLink>,
}

/// A peer address and when to dial it (again).
#[derive(Debug, Clone, Copy)]
struct Known {
    failures: u32,
    retry_at: Instant,
}

/// One of the fetcher's connections.
#[derive(Debug)]
struct Conn {
    addr: SocketAddr,
    peer_id: PeerId,
    outgoing: bool,
    commands: UnboundedSender<Command>,
    /// Where it accepts connections, once its extension handshake says (or we dialled it).
    listen: Option<SocketAddr>,
    client: Option<String>,
}

/// The metadata fetch of one magnet link; see the module docs.
#[derive(Debug)]
pub struct MetadataFetcher {
    magnet: MagnetLink,
    info_hash: InfoHash,
    config: Arc<EngineConfig>,
    peer_id: PeerId,
    listen_port: u16,
    slots: Arc<Semaphore>,
    events: broadcast::Sender<TorrentEvent>,
    census: ActorCensus,
    state: TorrentState,
    fetch: MetadataFetch,
    announcer: Option<Addr<Announcer>>,
    dht: Option<DhtLink>,
    /// The link's trackers and how each one's last announce went.
    trackers: Vec<TrackerInfo>,
    known: HashMap<SocketAddr, Known>,
    connecting: HashSet<SocketAddr>,
    conns: HashMap<PeerKey, Conn>,
    banned_addrs: HashSet<SocketAddr>,
    banned_ids: HashSet<PeerId>,
    next_key: u64,
    done: Recipient<MetadataFetched>,
    /// The metadata arrived and went to the session: nothing more to do but stop.
    handed_over: bool,
    span: Span,
    _alive: Alive,
}

impl MetadataFetcher {
    /// Builds the actor; `.start()` it inside an actix `System`.
    pub fn new(setup: MetadataFetcherSetup) -> Self {
        let info_hash = setup.magnet.info_hash;
        let span = tracing::info_span!("torrent", info_hash = %info_hash.short());
        let extensions = &setup.config.extensions;
        let fetch = MetadataFetch::new(
            info_hash,
            FetchConfig {
                max_metadata_size: extensions.max_metadata_size,
                request_timeout: extensions.metadata_request_timeout(),
                ..FetchConfig::default()
            },
        );
        let now = Instant::now();
        let known = setup
            .magnet
            .peers
            .iter()
            .filter_map(|peer| peer.parse::<SocketAddr>().ok())
            .map(|addr| {
                let known = Known {
                    failures: 0,
                    retry_at: now,
                };
                (addr, known)
            })
            .collect();
        let trackers = trackers::initial(vec![setup.magnet.trackers.clone()]);
        Self {
            info_hash,
            state: if setup.paused {
                TorrentState::Paused
            } else {
                TorrentState::FetchingMetadata
            },
            fetch,
            known,
            magnet: setup.magnet,
            config: setup.config,
            peer_id: setup.peer_id,
            listen_port: setup.listen_port,
            slots: setup.slots,
            events: setup.events,
            _alive: setup.census.enter(ActorKind::MetadataFetcher),
            census: setup.census,
            announcer: None,
            dht: setup.dht,
            trackers,
            connecting: HashSet::new(),
            conns: HashMap::new(),
            banned_addrs: HashSet::new(),
            banned_ids: HashSet::new(),
            next_key: 0,
            done: setup.done,
            handed_over: false,
            span,
        }
    }

    fn emit(&self, event: TorrentEvent) {
        let _ = self.events.send(event);
    }

    fn set_state(&mut self, state: TorrentState) {
        if self.state != state {
            info!(parent: &self.span, ?state, "torrent state");
            self.state = state.clone();
            self.emit(TorrentEvent::StateChanged(state));
        }
    }

    fn is_active(&self) -> bool {
        self.state == TorrentState::FetchingMetadata && !self.handed_over
    }

    /// The torrent's name for now: the link's `dn`, or the info-hash.
    fn name(&self) -> String {
        self.magnet
            .display_name
            .clone()
            .unwrap_or_else(|| self.info_hash.to_string())
    }

    fn start_announcer(&mut self, ctx: &mut Context<Self>) {
        if self.magnet.trackers.is_empty() && self.dht.is_none() {
            return;
        }
        let me = ctx.address();
        let setup = AnnouncerSetup {
            info_hash: self.info_hash,
            peer_id: self.peer_id,
            listen_port: self.listen_port,
            own_ips: Vec::new(),
            tiers: self
                .magnet
                .trackers
                .iter()
                .map(|t| vec![t.clone()])
                .collect(),
            progress: Progress {
                uploaded: 0,
                downloaded: 0,
                left: PLACEHOLDER_LEFT,
            },
            config: self.config.announcer.to_config(),
            peers_out: me.clone().recipient(),
            status_out: me.recipient(),
            span: self.span.clone(),
        };
        let alive = self.census.enter(ActorKind::Announcer);
        let mut announcer = Announcer::new(setup).with_alive(alive);
        if let Some(link) = self.dht.clone() {
            announcer = announcer.with_dht(link);
        }
        self.announcer = Some(announcer.start());
    }

    /// The metadata checked out: build the torrent and hand it to the session.
    fn finish(&mut self, ctx: &mut Context<Self>, metadata: Vec<u8>) {
        match metainfo_from_metadata(metadata, &self.magnet.trackers) {
            Ok(metainfo) => {
                info!(parent: &self.span, name = %metainfo.info.name, "metadata received");
                self.emit(TorrentEvent::MetadataReceived {
                    name: metainfo.info.name.clone(),
                    piece_length: metainfo.info.piece_length,
                    private: metainfo.info.private,
                });
                let peers = self.handover_peers();
                self.handed_over = true;
                self.close_all(DisconnectReason::TorrentStopping);
                // No `stopped`: the supervisor's announcer takes over the swarms at once.
                if let Some(announcer) = self.announcer.take() {
                    announcer.do_send(Detach);
                }
                self.done.do_send(MetadataFetched {
                    info_hash: self.info_hash,
                    metainfo: Arc::new(metainfo),
                    peers,
                    banned: self.banned_addrs.iter().copied().collect(),
                });
            }
            Err(error) => self.fail(ctx, EngineError::InvalidMetadata(error.to_string())),
        }
    }

    /// The peers the supervisor should try: every known address and every connected
    /// peer's listen address, struck ones left out.
    fn handover_peers(&self) -> Vec<SocketAddr> {
        let mut peers: Vec<SocketAddr> = self
            .conns
            .values()
            .filter_map(|c| c.listen)
            .chain(self.known.keys().copied())
            .filter(|addr| !self.banned_addrs.contains(addr))
            .collect();
        peers.sort_unstable();
        peers.dedup();
        peers
    }

    /// A torrent-fatal error: `Error`, connections closed, trackers told we left.
    fn fail(&mut self, _ctx: &mut Context<Self>, error: EngineError) {
        warn!(parent: &self.span, %error, "metadata fetch failed");
        self.emit(TorrentEvent::Error(error.clone()));
        self.set_state(TorrentState::Error(error));
        self.close_all(DisconnectReason::TorrentStopping);
        if let Some(announcer) = &self.announcer {
            announcer.do_send(AnnounceNow {
                event: AnnounceEvent::Stopped,
            });
        }
    }

    /// Tells every connection to close.
    fn close_all(&mut self, reason: DisconnectReason) {
        for (key, conn) in self.conns.drain() {
            self.fetch.peer_left(key);
            let _ = conn.commands.send(Command::Close(reason));
        }
    }

    /// The statistics now: no pieces are known yet.
    fn stats(&self) -> TorrentStats {
        let mut peers: Vec<PeerInfo> = self
            .conns
            .values()
            .map(|c| PeerInfo {
                addr: c.addr,
                peer_id: c.peer_id,
                client: c.client.clone(),
                outgoing: c.outgoing,
                downloaded: 0,
                uploaded: 0,
                download_rate: 0,
                upload_rate: 0,
            })
            .collect();
        peers.sort_by_key(|p| p.addr);
        TorrentStats {
            info_hash: self.info_hash,
            name: self.name(),
            state: self.state.clone(),
            pieces_have: 0,
            pieces_total: 0,
            total_len: 0,
            wanted_len: 0,
            left: 0,
            downloaded: 0,
            uploaded: 0,
            download_rate: 0,
            upload_rate: 0,
            peers,
            peer_totals: Vec::new(),
            connecting: self.connecting.len(),
            trackers: self.trackers.clone(),
        }
    }
}

impl Actor for MetadataFetcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        info!(parent: &self.span, name = %self.name(), "magnet added, fetching metadata");
        self.emit(TorrentEvent::StateChanged(self.state.clone()));
        if self.is_active() {
            self.start_announcer(ctx);
        }
        self.resolve_named_peers(ctx);
        self.fill_slots(ctx);
        ctx.run_interval(self.config.redial_interval(), |act, ctx| {
            act.fill_slots(ctx)
        });
        let tick = self.config.peer.tick().max(Duration::from_millis(10));
        ctx.run_interval(tick, |act, _| act.tick());
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.close_all(DisconnectReason::TorrentStopping);
        debug!(parent: &self.span, "metadata fetcher stopped");
    }
}
