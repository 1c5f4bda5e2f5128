//! `TorrentSupervisor`: one per torrent; starts and stops the torrent's other actors, owns
//! its state machine and statistics, and decides which connections exist.
//!
//! # What it owns
//! The torrent's state ([`TorrentState`]: checking → downloading → seeding, paused, error),
//! the pieces we have (from the resume check and `PieceVerified`), the addresses of the
//! torrent's actors (DiskWriter pool, PieceManager, Choker, Announcer), every connection's
//! [`PeerHandle`] and last counters, the peers known from trackers and when to dial them
//! again, the hash-check strikes per peer, the banned peers, and the sender of the
//! torrent's events.
//!
//! # Life
//! 1. Started: `Checking`. Opens the storage (one blocking call, off the actor thread),
//!    starts the DiskWriter pool and runs the resume check on it.
//! 2. Starts the PieceManager, the Choker and the Announcer (which announces `started` with
//!    the `left` the check found); `Downloading`, or `Seeding` if nothing is missing.
//! 3. Dials peers the announcer discovers (deduplicated, within the per-torrent limit and
//!    the session's connection slots, never ourselves, never banned ones) and admits the
//!    connections the session accepted for it; each connection's `PeerSession` starts on a
//!    worker Arbiter.
//! 4. On each `PieceVerified`: HAVE to every connection, an event, new progress for the
//!    announcer; on the last piece `Seeding`, `completed` to the trackers, the files synced
//!    to disk (`DataSynced`), then `Completed`. A pause and a shutdown sync the files too.
//! 5. A disk error puts the torrent in `Error` (with the OS message) and closes everything.
//!
//! # Messages in and out
//! In ([`msg`]): `PeersDiscovered`, `TrackerStatusChanged` (announcer); `PieceVerified`,
//! `PieceFailed`, `DiskFailed` (piece manager, connections); `PeerStatsUpdated`,
//! `PeerDisconnected`, `ExtensionHandshakeReceived`, `PeersDiscovered` from PEX
//! (connections); `IncomingPeer` (session); `Pause`, `Resume`, `Shutdown`, `GetStats`
//! (handle, session).
//! Out: `Have`, `Disconnect` and (once per PEX interval) `UpdatePex` to connections, `ModeChanged` to the choker,
//! `UpdateProgress` and `AnnounceNow` to the announcer (all `do_send`); `Shutdown` to each
//! actor it started; [`TorrentEvent`]s on a broadcast channel.
//!
//! # Timers
//! Every `redial_interval`: dial known peers whose back-off has passed. Every
//! `stats_interval`: a `Progress` event and fresh statistics for the announcer. Every
//! `extensions.pex_interval` (not for a private torrent): the connected peers to every
//! connection, for BEP 11 peer exchange.
//!
//! # What stops it
//! [`msg::Shutdown`]: connections closed, `stopped` announced (bounded by the announcer's
//! stop timeout), the other actors stopped; the reply comes when that is done.
//!
//! # Layout
//! - this module: the actor, its setup, start-up and state changes.
//! - `peers`: dialling, admitting and forgetting connections.
//! - `handlers`: the messages.
//! - `start`: starting the other actors after the check.
//! - `stats`: statistics and progress.
//! - `ledger`: bytes exchanged per peer id over the run, ended connections included.
//! - `trackers`: how each tracker's last announce went.
//! - `sync`: flushing the files to disk on completion, pause and shutdown.
//! - `strikes`: hash-check strikes per peer, across its connections.
//! - `extensions`: extension handshakes, BEP 11 peer exchange, BEP 27 private torrents.

mod extensions;
mod handlers;
mod ledger;
pub mod msg;
mod peers;
mod start;
mod stats;
mod strikes;
mod sync;
pub(crate) mod trackers;

pub(crate) use peers::our_reserved;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, WrapFuture};
use bt_proto::bitfield::Bitfield;
use bt_proto::geometry::Lengths;
use bt_proto::metainfo::Metainfo;
use bt_proto::tracker::AnnounceEvent;
use bt_proto::{InfoHash, PeerId};
use tokio::sync::{Semaphore, broadcast, oneshot};
use tracing::{Span, error, info};

use crate::EngineError;
use crate::actors::announcer::msg::AnnounceNow;
use crate::actors::announcer::{Announcer, Progress};
use crate::actors::census::{ActorCensus, ActorKind, Alive};
use crate::actors::choker::Choker;
use crate::actors::disk::{DiskWriter, check_existing};
use crate::actors::peer::PeerHandle;
use crate::actors::peer::msg::DisconnectReason;
use crate::actors::piece_manager::{self, DiskBacklog, PieceManager};
use crate::actors::pool::ArbiterPool;
use crate::choker::PeerKey;
use crate::config::EngineConfig;
use crate::selection::FileSelection;
use crate::shaping::SessionLimits;
use crate::storage::{Storage, StorageConfig};
use crate::strategies::Strategies;
use crate::torrent::{TorrentEvent, TorrentState, TrackerInfo};
use ledger::PeerLedger;
use msg::PeerTransfer;

/// Everything a [`TorrentSupervisor`] is built from.
#[derive(Debug)]
pub struct SupervisorSetup {
    /// The torrent.
    pub metainfo: Arc<Metainfo>,
    /// Where its files are (`DIR/NAME` or `DIR/NAME/...`).
    pub download_dir: PathBuf,
    /// The session's configuration.
    pub config: Arc<EngineConfig>,
    /// Our peer id.
    pub peer_id: PeerId,
    /// The port we accept connections on, for the trackers.
    pub listen_port: u16,
    /// Where connections run.
    pub arbiters: ArbiterPool,
    /// The session's connection slots.
    pub slots: Arc<Semaphore>,
    /// The session's rate limits, for every connection.
    pub limits: SessionLimits,
    /// Where the torrent's events go.
    pub events: broadcast::Sender<TorrentEvent>,
    /// The session's actor census.
    pub census: ActorCensus,
    /// Start paused (check the data, then stay idle).
    pub paused: bool,
    /// The embedder's choker and picker, or the configured ones.
    pub strategies: Strategies,
    /// The files to download (indices), `None` for all.
    pub files: Option<Vec<usize>>,
    /// The session's DHT node, if it runs one (used only if the torrent is not private).
    pub dht: Option<actix::Recipient<bt_dht::actor::Announce>>,
}

/// One connection, as the supervisor knows it.
#[derive(Debug)]
struct PeerEntry {
    handle: PeerHandle,
    peer_id: PeerId,
    outgoing: bool,
    transfer: PeerTransfer,
}

/// A peer address from a tracker and when to try it (again).
#[derive(Debug, Clone, Copy)]
struct Known {
    /// Dials that failed in a row.
    failures: u32,
    /// Not dialled before this.
    retry_at: Instant,
    /// Who answered there last time: not dialled while connected to that peer some other way.
    peer_id: Option<PeerId>,
    /// It was a seed when we were one, or a peer's PEX flagged it as a seed (BEP 11): not
    /// dialled (again) while we seed.
    seed: bool,
}

/// The torrent's actors, once started.
#[derive(Debug)]
struct Parts {
    disk: Addr<DiskWriter>,
    manager: Addr<PieceManager>,
    /// Shared by the piece manager and the connections.
    backlog: DiskBacklog,
    choker: Addr<Choker>,
    announcer: Addr<Announcer>,
}

/// The supervisor of one torrent; see the module docs.
#[derive(Debug)]
pub struct TorrentSupervisor {
    info_hash: InfoHash,
    metainfo: Arc<Metainfo>,
    lengths: Lengths,
    /// The wanted pieces: complete means every one of them verified.
    selection: FileSelection,
    download_dir: PathBuf,
    config: Arc<EngineConfig>,
    peer_id: PeerId,
    listen_port: u16,
    arbiters: ArbiterPool,
    slots: Arc<Semaphore>,
    limits: SessionLimits,
    strategies: Strategies,
    events: broadcast::Sender<TorrentEvent>,
    census: ActorCensus,
    state: TorrentState,
    /// Pause once the check is done.
    pause_after_check: bool,
    have: Bitfield,
    /// Bytes of the wanted pieces in `have`.
    have_bytes: u64,
    parts: Option<Parts>,
    peers: HashMap<PeerKey, PeerEntry>,
    connecting: HashSet<SocketAddr>,
    known: HashMap<SocketAddr, Known>,
    banned_ids: HashSet<PeerId>,
    banned_addrs: HashSet<SocketAddr>,
    /// Hash-check strikes per peer, which outlive its connections.
    strikes: strikes::StrikeBook,
    next_key: u64,
    /// Counters of connections that have ended.
    closed: PeerTransfer,
    /// Bytes exchanged per peer id, ended connections included.
    ledger: PeerLedger,
    /// The torrent's trackers and how each one's last announce went.
    trackers: Vec<TrackerInfo>,
    /// What the last `Progress` event said, so an idle torrent sends none.
    last_progress: (u32, u64, u64),
    /// Waiting for every connection to end, to answer a `Shutdown`.
    drained: Vec<oneshot::Sender<()>>,
    /// The metadata we serve and what extension handshakes told us (`extensions`).
    ext: extensions::ExtensionBook,
    /// The session's DHT node, if any.
    dht: Option<actix::Recipient<bt_dht::actor::Announce>>,
    span: Span,
    _alive: Alive,
}

impl TorrentSupervisor {
    /// Builds the actor, or fails if the torrent's geometry is unusable. `.start()` it inside
    /// an actix `System`.
    pub fn new(setup: SupervisorSetup) -> Result<Self, EngineError> {
        let info = &setup.metainfo.info;
        let lengths = Lengths::new(info.total_length(), info.piece_length)?;
        if info.pieces.len() != lengths.piece_count() as usize {
            return Err(EngineError::HashCount {
                hashes: info.pieces.len(),
                pieces: lengths.piece_count(),
            });
        }
        let selection = FileSelection::new(info, &lengths, setup.files.as_deref())?;
        let info_hash = setup.metainfo.info_hash;
        let max_strikes = setup.config.picker.max_strikes;
        let span = tracing::info_span!("torrent", info_hash = %info_hash.short());
        Ok(Self {
            info_hash,
            lengths,
            selection,
            have: Bitfield::new(lengths.piece_count() as usize),
            ext: extensions::ExtensionBook::new(&setup.metainfo.info_bytes),
            trackers: trackers::initial(setup.metainfo.tracker_tiers()),
            metainfo: setup.metainfo,
            download_dir: setup.download_dir,
            config: setup.config,
            peer_id: setup.peer_id,
            listen_port: setup.listen_port,
            arbiters: setup.arbiters,
            slots: setup.slots,
            limits: setup.limits,
            strategies: setup.strategies,
            events: setup.events,
            _alive: setup.census.enter(ActorKind::TorrentSupervisor),
            census: setup.census,
            state: TorrentState::Checking,
            pause_after_check: setup.paused,
            have_bytes: 0,
            parts: None,
            peers: HashMap::new(),
            connecting: HashSet::new(),
            known: HashMap::new(),
            banned_ids: HashSet::new(),
            banned_addrs: HashSet::new(),
            strikes: strikes::StrikeBook::new(max_strikes),
            next_key: 0,
            closed: PeerTransfer::default(),
            ledger: PeerLedger::default(),
            last_progress: (0, 0, 0),
            drained: Vec::new(),
            dht: setup.dht,
            span,
        })
    }

    /// The torrent's info-hash.
    pub fn info_hash(&self) -> InfoHash {
        self.info_hash
    }

    /// Sends an event to the subscribers (none listening is fine).
    fn emit(&self, event: TorrentEvent) {
        let _ = self.events.send(event);
    }

    /// Moves to `state` and tells the subscribers.
    fn set_state(&mut self, state: TorrentState) {
        if self.state != state {
            info!(parent: &self.span, ?state, "torrent state");
            self.state = state.clone();
            self.emit(TorrentEvent::StateChanged(state));
        }
    }

    /// Whether connections may exist now.
    fn is_active(&self) -> bool {
        matches!(
            self.state,
            TorrentState::Downloading | TorrentState::Seeding
        )
    }

    /// A torrent-fatal error: `Error` state, every connection closed, trackers told we left.
    fn fail(&mut self, error: EngineError) {
        error!(parent: &self.span, %error, "torrent failed");
        self.emit(TorrentEvent::Error(error.clone()));
        self.set_state(TorrentState::Error(error));
        self.disconnect_all(DisconnectReason::TorrentStopping);
        if let Some(parts) = &self.parts {
            parts.announcer.do_send(AnnounceNow {
                event: AnnounceEvent::Stopped,
            });
        }
    }

    /// Opens the storage, starts the disk pool and runs the resume check, then [`Self::begin`].
    fn check(&mut self, ctx: &mut Context<Self>) {
        let dir = self.download_dir.clone();
        let metainfo = Arc::clone(&self.metainfo);
        let threads = self.config.disk_thread_count();
        let census = self.census.clone();
        let lengths = self.lengths;
        let in_use = self.selection.files_in_use().to_vec();
        let startup = async move {
            let opened = Arc::clone(&metainfo);
            // Creating directories and empty files is blocking I/O: off the actor's thread.
            let open = tokio::task::spawn_blocking(move || {
                Storage::open_files(&dir, &opened.info, &StorageConfig::default(), &in_use)
            });
            let storage = open.await.map_err(|_| EngineError::Stopped)??;
            let disk = DiskWriter::start_counted(storage, threads, Some(census));
            let pieces = &metainfo.info.pieces;
            let have = check_existing(
                &disk.clone().recipient(),
                &lengths,
                pieces,
                2 * threads,
                |_, _| {},
            )
            .await?;
            Ok::<_, EngineError>((disk, have))
        };
        ctx.spawn(
            startup
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok((disk, have)) => act.begin(ctx, disk, have),
                    Err(error) => act.fail(error),
                }),
        );
    }

    /// After the check: the other actors, the timers, and `Downloading` or `Seeding`.
    fn begin(&mut self, ctx: &mut Context<Self>, disk: Addr<DiskWriter>, have: Bitfield) {
        if self.state != TorrentState::Checking {
            return; // Shut down while checking.
        }
        let wanted = self.selection.wanted_pieces();
        self.have_bytes = self
            .lengths
            .pieces()
            .filter(|p| have.has(p.as_usize()) && wanted.has(p.as_usize()))
            .map(|p| u64::from(self.lengths.piece_len(p)))
            .sum();
        self.have = have;
        let complete = self.is_complete();
        let backlog = piece_manager::disk_backlog(&self.lengths, self.config.disk_backlog);
        let manager = self.start_manager(ctx, &disk, &backlog);
        let choker = self.start_choker(complete);
        let announcer = self.start_announcer(ctx);
        self.parts = Some(Parts {
            disk,
            manager,
            backlog,
            choker,
            announcer,
        });
        info!(
            parent: &self.span,
            have = self.have.count_ones(),
            pieces = self.lengths.piece_count(),
            "resume check done"
        );
        if self.pause_after_check {
            self.pause();
        } else if complete {
            self.set_state(TorrentState::Seeding);
            self.emit(TorrentEvent::Completed);
        } else {
            self.set_state(TorrentState::Downloading);
        }
        ctx.run_interval(self.config.redial_interval(), |act, ctx| {
            act.fill_slots(ctx)
        });
        ctx.run_interval(self.config.stats_interval(), |act, _| act.report_progress());
        self.start_extension_timers(ctx);
    }

    /// Transfer statistics as trackers want them.
    fn progress(&self) -> Progress {
        let totals = self.totals();
        Progress {
            uploaded: totals.uploaded,
            downloaded: totals.downloaded,
            left: self.selection.wanted_len().saturating_sub(self.have_bytes),
        }
    }

    /// Whether every wanted piece is verified.
    fn is_complete(&self) -> bool {
        self.selection.is_complete(&self.have)
    }
}

impl Actor for TorrentSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        info!(
            parent: &self.span,
            name = %self.metainfo.info.name,
            dir = %self.download_dir.display(),
            "torrent added"
        );
        self.emit(TorrentEvent::StateChanged(TorrentState::Checking));
        self.check(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        info!(parent: &self.span, "torrent stopped");
        self.set_state(TorrentState::Stopped);
    }
}

impl TorrentSupervisor {
    /// Stops the actor once the shutdown's work is done.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.parts = None;
        ctx.stop();
    }
}
