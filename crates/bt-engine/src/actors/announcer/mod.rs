//! The `Announcer` actor: one per torrent, it tells the torrent's trackers about us and hands
//! the peers they return to the torrent supervisor.
//!
//! # What it owns
//! The tracker order ([`TierList`], BEP 12), the announce timing ([`AnnounceSchedule`]), the
//! latest transfer statistics, and per tracker: whether it knows us (got our `started`), the
//! `tracker id` it gave us (BEP 3), and a cached UDP connection id (BEP 15).
//!
//! # Messages
//! In ([`msg`]): [`UpdateProgress`](msg::UpdateProgress), [`AnnounceNow`](msg::AnnounceNow),
//! [`WantMorePeers`](msg::WantMorePeers), [`Shutdown`](msg::Shutdown), [`Detach`](msg::Detach).
//! Out, by `do_send` to the `Recipient`s given at construction (it names no concrete actor):
//! [`PeersDiscovered`] after every answer with usable peers, and
//! [`TrackerStatusChanged`] after every announce but `stopped`.
//!
//! # How announcing works
//! `started` goes out as soon as the actor starts, to the trackers whose URL we can use
//! (`http://`, `udp://`); the others (`https://`, malformed URLs) are reported once as
//! [`TrackerStatus::Unusable`] and never announced to. One announce is in flight at a time, as a
//! future spawned on the actor's context (`ctx.spawn`), never blocking it. A tracker that fails
//! hands over at once to the next one in BEP 12 order; when every tracker failed, the round is
//! retried after an exponential back-off. Each tracker that has not seen our `started` gets it
//! first; `completed` goes to the next tracker asked after [`msg::AnnounceNow`] says so. Peers
//! at our own address (our listen port on a loopback, unspecified or own IP) or with our peer
//! id are dropped, so the torrent never connects to itself.
//!
//! # The DHT
//! Given a [`DhtLink`] ([`Announcer::with_dht`]: the session runs a DHT node and the torrent is
//! not private), it also announces to the DHT node every `interval` (a magnet link's fetch:
//! looks up only, never announces) and hands on the peers it finds, from
//! [`PeerSource::Dht`](crate::actors::supervisor::msg::PeerSource); see `dht`.
//!
//! # Timers
//! One `ctx.run_later`, re-armed after every announce from [`AnnounceSchedule`]: the tracker's
//! interval, the back-off after a failed round, or earlier on [`msg::WantMorePeers`]; with a
//! DHT link, a `ctx.run_interval` for the DHT announces.
//!
//! # What stops it
//! [`msg::Shutdown`]: it sends `stopped` to the trackers that know us, waits at most
//! [`AnnouncerConfig::stop_timeout`], then stops. Dropping every address stops it too, but
//! without `stopped`.
//!
//! # Logging
//! Each announce runs in an `announce{tracker=%url}` span under the torrent span passed in: an
//! answer logs at `info`, a failure at `debug` (dead trackers are routine).
//!
//! # Layout
//! - this module: the actor, announcing and booking the answers.
//! - `handlers`: the messages; `leave`: `stopped` to the trackers on pause and shutdown.

mod dht;
mod handlers;
mod leave;
pub mod msg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_backoff;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use actix::WrapFuture;
use actix::{Actor, ActorFutureExt, AsyncContext, Context, Recipient, SpawnHandle};
use bt_proto::tracker::{AnnounceEvent, AnnounceRequest, TrackerPeer};
use bt_proto::types::{InfoHash, PeerId};
use tracing::Instrument;

use crate::actors::census::Alive;
use crate::actors::supervisor::msg::{
    PeerSource, PeersDiscovered, TrackerStatus, TrackerStatusChanged,
};
pub use dht::{DhtLink, DhtRequest};

use crate::tracker::{
    self, AnnounceSchedule, Announced, ConnectionId, ScheduleConfig, TierList, TrackerError,
    TransportConfig,
};

/// The announcer's tunables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncerConfig {
    /// Peers asked for per announce (BEP 3 `numwant`); 50 is what trackers give by default and
    /// more than a torrent can usually connect to between two announces.
    pub numwant: u32,
    /// Time limits of the HTTP and UDP transports.
    pub transport: TransportConfig,
    /// Interval clamping and back-off.
    pub schedule: ScheduleConfig,
    /// How long [`msg::Shutdown`] waits for the `stopped` announces: a leaving torrent should
    /// not hang on a dead tracker, and trackers forget silent peers anyway.
    pub stop_timeout: Duration,
}

impl Default for AnnouncerConfig {
    fn default() -> Self {
        Self {
            numwant: 50,
            transport: TransportConfig::default(),
            schedule: ScheduleConfig::default(),
            stop_timeout: Duration::from_secs(5),
        }
    }
}

/// Transfer statistics as trackers want them (BEP 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Payload bytes sent since the torrent started.
    pub uploaded: u64,
    /// Payload bytes received since the torrent started.
    pub downloaded: u64,
    /// Bytes still missing.
    pub left: u64,
}

/// Everything an [`Announcer`] is built from.
#[derive(Debug)]
pub struct AnnouncerSetup {
    /// The torrent.
    pub info_hash: InfoHash,
    /// Our peer id: sent to trackers, and used to recognise ourselves in peer lists.
    pub peer_id: PeerId,
    /// The port we accept peers on: sent to trackers, and used to recognise ourselves.
    pub listen_port: u16,
    /// Addresses this host is known by (local interfaces, an external address); a peer at one
    /// of these with our listen port is us. Loopback and unspecified addresses always count.
    pub own_ips: Vec<IpAddr>,
    /// `Metainfo::tracker_tiers()`; each tier is shuffled once (BEP 12).
    pub tiers: Vec<Vec<String>>,
    /// The statistics for the first (`started`) announce, so that `left` is right from the
    /// start.
    pub progress: Progress,
    /// Tunables.
    pub config: AnnouncerConfig,
    /// Where peers go (the torrent supervisor).
    pub peers_out: Recipient<PeersDiscovered>,
    /// Where tracker outcomes go (the torrent supervisor).
    pub status_out: Recipient<TrackerStatusChanged>,
    /// The torrent's span; each announce gets a child span.
    pub span: tracing::Span,
}

/// Announces one torrent to its trackers; see the module docs.
#[derive(Debug)]
pub struct Announcer {
    info_hash: InfoHash,
    peer_id: PeerId,
    listen_port: u16,
    own_ips: Vec<IpAddr>,
    progress: Progress,
    config: AnnouncerConfig,
    tiers: TierList,
    /// Trackers left out of `tiers` because their URL cannot be used, with why; reported
    /// once at start.
    unusable: Vec<(String, TrackerError)>,
    schedule: AnnounceSchedule,
    /// BEP 3 `key`: one random value for the actor's life, so trackers recognise us across
    /// address changes.
    key: u32,
    /// Trackers that accepted our `started` and so count us in their swarm: they get
    /// `completed` and `stopped`; the others get `started` first.
    joined: HashSet<String>,
    /// BEP 3 `tracker id`s to echo back.
    tracker_ids: HashMap<String, Vec<u8>>,
    /// BEP 15 connection ids, reused while fresh.
    udp_connections: HashMap<String, ConnectionId>,
    /// `completed` was asked for and no tracker has accepted it yet.
    completed_pending: bool,
    /// The announce in flight; one at a time keeps the tier cursor and the schedule simple.
    in_flight: Option<SpawnHandle>,
    /// The tracker the announce in flight goes to: it may have counted us already, so
    /// leaving the swarms tells it too.
    in_flight_url: Option<String>,
    /// An [`msg::AnnounceNow`] arrived while an announce was in flight: announce again after it.
    rerun: bool,
    /// The next scheduled announce.
    timer: Option<SpawnHandle>,
    /// After `stopped` (pause or shutdown): no announces until `started`.
    paused: bool,
    peers_out: Recipient<PeersDiscovered>,
    status_out: Recipient<TrackerStatusChanged>,
    span: tracing::Span,
    /// The session's DHT node, for a public torrent (or a magnet link's fetch, lookups only)
    /// when the DHT is on (`dht`).
    dht: Option<DhtLink>,
    /// A DHT announce or lookup is in flight.
    dht_in_flight: bool,
    /// Counts this actor in its session's census while it exists.
    _alive: Option<Alive>,
}

impl Announcer {
    /// Counts the actor in a session's [`ActorCensus`](crate::actors::census::ActorCensus)
    /// for as long as it exists.
    pub fn with_alive(mut self, alive: Alive) -> Self {
        self._alive = Some(alive);
        self
    }

    /// Builds the actor; call `.start()` inside an actix `System` to send `started`.
    /// Trackers whose URL cannot be used (see [`tracker::usable_url`]) are left out of the
    /// tiers; the actor reports each as [`TrackerStatus::Unusable`] when it starts.
    pub fn new(setup: AnnouncerSetup) -> Self {
        let (usable, unusable) = tracker::split_usable(setup.tiers);
        let tiers = TierList::new(usable, &mut rand::rng());
        let schedule = AnnounceSchedule::new(setup.config.schedule.clone(), Instant::now());
        Self {
            info_hash: setup.info_hash,
            peer_id: setup.peer_id,
            listen_port: setup.listen_port,
            own_ips: setup.own_ips,
            progress: setup.progress,
            config: setup.config,
            tiers,
            unusable,
            schedule,
            key: rand::random(),
            joined: HashSet::new(),
            tracker_ids: HashMap::new(),
            udp_connections: HashMap::new(),
            completed_pending: false,
            in_flight: None,
            in_flight_url: None,
            rerun: false,
            timer: None,
            paused: false,
            peers_out: setup.peers_out,
            status_out: setup.status_out,
            span: setup.span,
            dht: None,
            dht_in_flight: false,
            _alive: None,
        }
    }

    /// The event the next announce to `url` carries.
    fn event_for(&self, url: &str) -> AnnounceEvent {
        if !self.joined.contains(url) {
            AnnounceEvent::Started
        } else if self.completed_pending {
            AnnounceEvent::Completed
        } else {
            AnnounceEvent::None
        }
    }

    fn request(&self, url: &str, event: AnnounceEvent) -> AnnounceRequest {
        let numwant = if event == AnnounceEvent::Stopped {
            0
        } else {
            self.config.numwant
        };
        AnnounceRequest {
            info_hash: self.info_hash,
            peer_id: self.peer_id,
            port: self.listen_port,
            uploaded: self.progress.uploaded,
            downloaded: self.progress.downloaded,
            left: self.progress.left,
            event,
            numwant: Some(numwant),
            key: Some(self.key),
            tracker_id: self.tracker_ids.get(url).cloned(),
            compact: true,
        }
    }

    /// The future of one announce to `url`, running in its own span.
    fn announce_future(
        &self,
        url: &str,
        event: AnnounceEvent,
        span: tracing::Span,
    ) -> impl Future<Output = Result<Announced, TrackerError>> + Send + use<> {
        let req = self.request(url, event);
        let parsed = tracker::usable_url(url);
        let transport = self.config.transport.clone();
        let cached = self.udp_connections.get(url).copied();
        async move { tracker::announce(&parsed?, &req, &transport, cached).await }.instrument(span)
    }

    /// Starts an announce to the current tracker, unless one is in flight or we are paused.
    fn announce(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight.is_some() {
            self.rerun = true;
            return;
        }
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        if self.paused {
            return;
        }
        let Some(url) = self.tiers.current().map(str::to_owned) else {
            return;
        };
        let event = self.event_for(&url);
        let span = tracing::info_span!(parent: &self.span, "announce", tracker = %url);
        let fut = self.announce_future(&url, event, span.clone());
        self.in_flight_url = Some(url.clone());
        let handle = ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            let _entered = span.enter();
            act.in_flight = None;
            act.in_flight_url = None;
            act.on_result(ctx, url, event, result);
        }));
        self.in_flight = Some(handle);
    }

    /// Books the outcome of an announce and decides what happens next.
    fn on_result(
        &mut self,
        ctx: &mut Context<Self>,
        url: String,
        event: AnnounceEvent,
        result: Result<Announced, TrackerError>,
    ) {
        let again_now = match result {
            Ok(announced) => {
                self.on_answer(&url, event, announced);
                false
            }
            Err(error) => self.on_failure(&url, error),
        };
        if (again_now || std::mem::take(&mut self.rerun)) && !self.paused {
            self.announce(ctx);
        } else {
            self.arm_timer(ctx);
        }
    }

    fn on_answer(&mut self, url: &str, event: AnnounceEvent, announced: Announced) {
        let resp = announced.response;
        let now = Instant::now();
        if let Some(conn) = announced.udp_connection {
            self.udp_connections.insert(url.to_owned(), conn);
        }
        if let Some(id) = resp.tracker_id.clone() {
            self.tracker_ids.insert(url.to_owned(), id);
        }
        if event == AnnounceEvent::Completed {
            self.completed_pending = false;
        }
        self.joined.insert(url.to_owned());
        self.tiers.on_success(url);
        self.schedule
            .on_success(now, resp.interval, resp.min_interval);
        let peers = self.usable_peers(&resp.peers);
        tracing::info!(
            event = ?event,
            peers = peers.len(),
            seeders = ?resp.complete,
            leechers = ?resp.incomplete,
            interval = resp.interval,
            warning = ?resp.warning,
            "announce ok"
        );
        let status = TrackerStatus::Working {
            seeders: resp.complete,
            leechers: resp.incomplete,
            peers: peers.len(),
            warning: resp.warning,
            next_announce: self.schedule.delay(now),
        };
        if !peers.is_empty() {
            let source = PeerSource::Tracker(url.to_owned());
            self.peers_out.do_send(PeersDiscovered {
                peers,
                seeds: Vec::new(),
                source,
            });
        }
        self.send_status(url, status);
    }

    /// Books a failure; returns whether to try the next tracker right away.
    fn on_failure(&mut self, url: &str, error: TrackerError) -> bool {
        tracing::debug!(error = %error, "announce failed");
        self.udp_connections.remove(url);
        let next = self.tiers.on_failure(url).map(str::to_owned);
        let retry_in = match next {
            Some(_) => None,
            None => {
                let now = Instant::now();
                self.schedule.on_failure(now);
                Some(self.schedule.delay(now))
            }
        };
        self.send_status(url, TrackerStatus::Failed { error, retry_in });
        next.is_some()
    }

    fn send_status(&self, url: &str, status: TrackerStatus) {
        self.status_out.do_send(TrackerStatusChanged {
            tracker: url.to_owned(),
            status,
        });
    }

    /// Arms the one timer for the next announce the schedule asks for.
    fn arm_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        if self.paused || self.tiers.is_empty() {
            return;
        }
        let delay = self.schedule.delay(Instant::now());
        self.timer = Some(ctx.run_later(delay, |act, ctx| {
            act.timer = None;
            act.announce(ctx);
        }));
    }

    /// Peers from a tracker minus ourselves, port-0 entries and duplicates, in order.
    fn usable_peers(&self, peers: &[TrackerPeer]) -> Vec<SocketAddr> {
        let mut seen = HashSet::new();
        peers
            .iter()
            .filter(|p| p.peer_id != Some(self.peer_id))
            .map(|p| p.addr)
            .filter(|addr| addr.port() != 0 && !self.is_own(addr))
            .filter(|addr| seen.insert(*addr))
            .collect()
    }

    fn is_own(&self, addr: &SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        addr.port() == self.listen_port
            && (ip.is_loopback() || ip.is_unspecified() || self.own_ips.contains(&ip))
    }
}

impl Actor for Announcer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let span = self.span.clone();
        let _entered = span.enter();
        for (url, error) in std::mem::take(&mut self.unusable) {
            tracing::warn!(tracker = %url, %error, "tracker left out");
            self.send_status(&url, TrackerStatus::Unusable { error });
        }
        self.start_dht(ctx);
        if self.tiers.is_empty() {
            tracing::debug!("announcer started without usable trackers");
            return;
        }
        tracing::debug!(trackers = ?self.tiers.tiers(), "announcer started");
        self.announce(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        let span = self.span.clone();
        let _entered = span.enter();
        tracing::debug!("announcer stopped");
    }
}
