//! A mock BitTorrent tracker speaking HTTP (BEP 3, BEP 23, BEP 7, BEP 48) and UDP (BEP 15) on
//! loopback, with a real swarm behind it, a record of every announce, and faults to switch on.
//!
//! [`MockTracker::start`] binds `127.0.0.1:0` for both transports and serves them on its own
//! thread with its own current-thread tokio runtime, so it works under any caller: a plain
//! `#[test]`, `#[tokio::test]` or `#[actix::test]`. Dropping the handle (or
//! [`MockTracker::shutdown`]) stops the runtime, closes every socket and joins the thread.
//!
//! - **Swarms**: peers per info-hash, keyed by peer id, at the announcing socket's IP and the
//!   announced `port`; `stopped` removes a peer; an answer lists up to `numwant` peers other than
//!   the announcer, in order of first announce, with `complete`/`incomplete` counted from `left`.
//! - **Record**: every announce that reaches the tracker is recorded, whatever the mode (except
//!   [`TrackerMode::Down`], where nothing reaches it); the swarm changes only when the tracker
//!   answers with peers ([`TrackerMode::Healthy`], [`TrackerMode::FixedPeers`]).
//! - **Modes** switch at run time with [`MockTracker::set_mode`] (see [`TrackerMode`]).
//!
//! # Layout
//! - this module: the handle, its configuration and the modes.
//! - `state`: swarms, the announce record and the waits ([`RecordedAnnounce`], [`SwarmPeer`]).
//! - `http`: the minimal HTTP/1.1 server (one request per connection, `Connection: close`).
//! - `udp`: the BEP 15 server with the connection ids it issues and checks.

mod http;
mod state;
mod udp;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use bt_proto::InfoHash;
use bt_proto::tracker::ScrapeStats;
use tokio::sync::{oneshot, watch};

use state::Shared;
pub use state::{RecordedAnnounce, SwarmPeer, Transport};

/// How long [`MockTracker::set_mode`] waits for the HTTP listener to close or bind again.
const MODE_SWITCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How the tracker behaves; switch with [`MockTracker::set_mode`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TrackerMode {
    /// Answers announces from the swarm and scrapes from its counts.
    #[default]
    Healthy,
    /// Refuses every announce and scrape: HTTP `failure reason`, a UDP error packet (UDP connects
    /// still succeed, so a client gets as far as the refusal).
    Failure(String),
    /// Reads requests (and records announces) but never answers; HTTP connections are held open
    /// until [`MockTrackerConfig::silent_hold`] passes, the mode becomes `Down`, or shutdown.
    Silent,
    /// Answers with exactly this peer list (the swarm is still updated and counted).
    FixedPeers(Vec<SocketAddr>),
    /// HTTP: the listener is closed, so connects are refused; UDP: packets are ignored. Any other
    /// mode binds the HTTP listener again on the same port.
    Down,
}

/// Settings for [`MockTracker::start_with`]; the defaults suit tests.
#[derive(Debug, Clone)]
pub struct MockTrackerConfig {
    /// The announce `interval` in seconds; 1 by default so clients under test re-announce fast.
    pub interval: u32,
    /// The `min interval` to send, if any.
    pub min_interval: Option<u32>,
    /// The `tracker id` to send (BEP 3), if any.
    pub tracker_id: Option<Vec<u8>>,
    /// Peers returned when the client does not say `numwant`.
    pub default_numwant: u32,
    /// The most peers returned whatever the client asks.
    pub max_numwant: u32,
    /// The mode at start.
    pub initial_mode: TrackerMode,
    /// How long [`TrackerMode::Silent`] holds an HTTP connection before closing it.
    pub silent_hold: Duration,
    /// The most HTTP connections open at once; more are closed at once, so a runaway client
    /// cannot exhaust the test process's file descriptors.
    pub max_connections: usize,
    /// How long a UDP connection id stays valid (BEP 15 says two minutes on the tracker side).
    pub connection_id_ttl: Duration,
    /// How long the HTTP server waits for a whole request head before dropping the connection.
    pub request_timeout: Duration,
}

impl Default for MockTrackerConfig {
    fn default() -> Self {
        Self {
            interval: 1,
            min_interval: None,
            tracker_id: None,
            default_numwant: 50,
            max_numwant: 200,
            initial_mode: TrackerMode::Healthy,
            silent_hold: Duration::from_secs(60),
            max_connections: 256,
            connection_id_ttl: Duration::from_secs(120),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// A running mock tracker; see the module docs. Stops when dropped.
#[derive(Debug)]
pub struct MockTracker {
    http_addr: SocketAddr,
    udp_addr: SocketAddr,
    shared: Arc<Shared>,
    mode: watch::Sender<TrackerMode>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockTracker {
    /// Starts a tracker with [`MockTrackerConfig::default`].
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(MockTrackerConfig::default())
    }

    /// Binds `127.0.0.1:0` for HTTP and UDP and starts serving on a new thread.
    pub fn start_with(config: MockTrackerConfig) -> anyhow::Result<Self> {
        let tcp = TcpListener::bind("127.0.0.1:0").context("binding the HTTP tracker")?;
        let udp = UdpSocket::bind("127.0.0.1:0").context("binding the UDP tracker")?;
        let (http_addr, udp_addr) = (tcp.local_addr()?, udp.local_addr()?);
        tcp.set_nonblocking(true)?;
        udp.set_nonblocking(true)?;
        let (mode, mode_rx) = watch::channel(config.initial_mode.clone());
        let shared = Arc::new(Shared::new(config));
        let (stop, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the tracker's runtime")?;
        let task_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("mock-tracker-{}", http_addr.port()))
            .spawn(move || {
                runtime.block_on(serve(task_shared, tcp, udp, mode_rx, stop_rx));
                // Dropping the runtime here cancels every connection task and closes its socket.
            })
            .context("spawning the tracker thread")?;
        let tracker = Self {
            http_addr,
            udp_addr,
            shared,
            mode,
            stop: Some(stop),
            thread: Some(thread),
        };
        let want = tracker.mode.borrow().clone() != TrackerMode::Down;
        let deadline = Instant::now() + MODE_SWITCH_TIMEOUT;
        tracker
            .shared
            .wait_http_listening(want, deadline)
            .map_err(|e| anyhow!("starting the HTTP tracker: {e}"))?;
        Ok(tracker)
    }

    /// The HTTP listener's address (the port stays the same across [`TrackerMode::Down`]).
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The UDP socket's address.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// `http://127.0.0.1:PORT/announce`.
    pub fn http_announce_url(&self) -> String {
        format!("http://{}/announce", self.http_addr)
    }

    /// `http://127.0.0.1:PORT/scrape`, the BEP 48 scrape URL of [`Self::http_announce_url`].
    pub fn http_scrape_url(&self) -> String {
        format!("http://{}/scrape", self.http_addr)
    }

    /// `udp://127.0.0.1:PORT`.
    pub fn udp_announce_url(&self) -> String {
        format!("udp://{}", self.udp_addr)
    }

    /// The current mode.
    pub fn mode(&self) -> TrackerMode {
        self.mode.borrow().clone()
    }

    /// Switches the mode; returns once the HTTP listener matches it (closed for `Down`, bound
    /// again on the same port otherwise), or fails if it could not be bound again in time.
    pub fn set_mode(&self, mode: TrackerMode) -> anyhow::Result<()> {
        let want = mode != TrackerMode::Down;
        tracing::debug!(?mode, "mock tracker mode");
        self.mode.send_replace(mode);
        let deadline = Instant::now() + MODE_SWITCH_TIMEOUT;
        self.shared
            .wait_http_listening(want, deadline)
            .map_err(|e| anyhow!("switching the HTTP tracker's mode: {e}"))
    }

    /// Every announce received so far, oldest first.
    pub fn announces(&self) -> Vec<RecordedAnnounce> {
        self.shared.announces()
    }

    /// Forgets the recorded announces; the swarms are kept.
    pub fn clear_announces(&self) {
        self.shared.clear_announces();
    }

    /// Blocks the calling thread until a recorded announce (past or future) matches `pred`,
    /// returning the first that does, or fails after `timeout`. From inside an async runtime
    /// that also runs the client under test, use [`Self::wait_for_announce_async`] instead.
    pub fn wait_for_announce(
        &self,
        pred: impl Fn(&RecordedAnnounce) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<RecordedAnnounce> {
        self.shared
            .wait_for(&pred, Instant::now() + timeout)
            .ok_or_else(|| self.no_match(timeout))
    }

    /// [`Self::wait_for_announce`] without blocking the thread; needs a tokio runtime (actix
    /// runs on one) for its timer.
    pub async fn wait_for_announce_async(
        &self,
        pred: impl Fn(&RecordedAnnounce) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<RecordedAnnounce> {
        let mut changes = self.shared.subscribe();
        let wait = async {
            loop {
                changes.mark_unchanged();
                if let Some(found) = self.shared.find(&pred) {
                    return Some(found);
                }
                changes.changed().await.ok()?;
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(Some(found)) => Ok(found),
            _ => Err(self.no_match(timeout)),
        }
    }

    fn no_match(&self, timeout: Duration) -> anyhow::Error {
        let seen = self.shared.announces().len();
        anyhow!("no matching announce within {timeout:?} ({seen} announces recorded)")
    }

    /// The peers the tracker knows for `info_hash`, in order of first announce.
    pub fn peers(&self, info_hash: &InfoHash) -> Vec<SwarmPeer> {
        self.shared.peers(info_hash)
    }

    /// Puts a peer into a swarm without an announce: a fake seeder, an IPv6 peer for BEP 7.
    pub fn add_peer(&self, info_hash: InfoHash, peer: SwarmPeer) {
        self.shared.add_peer(info_hash, peer);
    }

    /// The swarm counts scrape would report for `info_hash`.
    pub fn stats(&self, info_hash: &InfoHash) -> ScrapeStats {
        self.shared.stats(info_hash)
    }

    /// Stops the tracker and joins its thread; dropping the handle does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("mock tracker thread panicked");
            }
        }
    }
}

impl Drop for MockTracker {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// The tracker thread's main task: both front ends until `stop` fires (or its sender drops).
async fn serve(
    shared: Arc<Shared>,
    tcp: TcpListener,
    udp: UdpSocket,
    mode: watch::Receiver<TrackerMode>,
    stop: oneshot::Receiver<()>,
) {
    let udp = match tokio::net::UdpSocket::from_std(udp) {
        Ok(socket) => socket,
        Err(e) => {
            shared.set_http_listening(false, Some(format!("UDP socket: {e}")));
            return;
        }
    };
    let http = http::serve(Arc::clone(&shared), tcp, mode.clone());
    let udp = udp::serve(Arc::clone(&shared), udp, mode);
    tokio::select! {
        _ = stop => {}
        () = http => {}
        () = udp => {}
    }
}
