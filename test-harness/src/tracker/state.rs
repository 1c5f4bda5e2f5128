//! What the mock tracker knows, shared by its HTTP and UDP front ends and by the handle the test
//! holds: the swarms (peers per info-hash), every announce received, and whether the HTTP
//! listener is up.
//!
//! One `std::sync::Mutex` guards it all; no lock is held across an `.await`. A `Condvar` wakes
//! blocking waiters and a `tokio::sync::watch` counter wakes async ones, so a test can wait from a
//! plain thread or from inside a runtime without blocking that runtime.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use bt_proto::tracker::TrackerPeer;
use bt_proto::tracker::{AnnounceEvent, AnnounceRequest, AnnounceResponse, ScrapeStats};
use bt_proto::{InfoHash, PeerId};
use tokio::sync::watch;

use super::{MockTrackerConfig, TrackerMode};

/// The most announces kept for [`super::MockTracker::announces`]; the oldest go first, so a
/// long-running experiment cannot grow the record without bound.
const MAX_RECORDED: usize = 65_536;

/// The transport an announce came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// An HTTP GET of `/announce` (BEP 3).
    Http,
    /// A UDP announce packet (BEP 15).
    Udp,
}

/// One announce as the tracker received it, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAnnounce {
    /// How it arrived.
    pub transport: Transport,
    /// The socket address it came from (the port is the client's ephemeral one, not `port`).
    pub source: SocketAddr,
    /// The torrent announced.
    pub info_hash: InfoHash,
    /// The announcer's id.
    pub peer_id: PeerId,
    /// The port the announcer says it accepts peers on.
    pub port: u16,
    /// Payload bytes sent, as reported.
    pub uploaded: u64,
    /// Payload bytes received, as reported.
    pub downloaded: u64,
    /// Bytes still missing; 0 means a seeder.
    pub left: u64,
    /// Why the client announced.
    pub event: AnnounceEvent,
    /// Peers asked for; `None` when the client let the tracker choose.
    pub numwant: Option<u32>,
    /// When the tracker received it.
    pub at: Instant,
}

/// A peer in a swarm, as the tracker hands it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmPeer {
    /// The peer's id; a second announce with the same id updates the entry.
    pub peer_id: PeerId,
    /// The announcing socket's IP with the announced port (or an address a test injected).
    pub addr: SocketAddr,
    /// Bytes it still misses; 0 counts it as a seeder.
    pub left: u64,
}

/// One torrent's swarm.
#[derive(Debug, Default)]
struct Swarm {
    /// In order of first announce, so answers are deterministic.
    peers: Vec<SwarmPeer>,
    /// `completed` events seen, for scrape's `downloaded`.
    completed: u32,
}

impl Swarm {
    fn stats(&self) -> ScrapeStats {
        let seeders = self.peers.iter().filter(|p| p.left == 0).count();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ScrapeStats {
            complete: count(seeders),
            downloaded: self.completed,
            incomplete: count(self.peers.len() - seeders),
        }
    }

    /// Inserts or updates the peer with this id.
    fn upsert(&mut self, peer: SwarmPeer) {
        match self.peers.iter_mut().find(|p| p.peer_id == peer.peer_id) {
            Some(slot) => *slot = peer,
            None => self.peers.push(peer),
        }
    }
}

/// Everything behind the lock.
#[derive(Debug, Default)]
struct State {
    swarms: HashMap<InfoHash, Swarm>,
    announces: VecDeque<RecordedAnnounce>,
    /// Whether the HTTP listener is bound, once the front end has said so;
    /// [`super::MockTracker::set_mode`] waits on it.
    http_listening: Option<bool>,
    /// Why the last attempt to bind the HTTP port again failed, if it did.
    http_bind_error: Option<String>,
}

/// What the front end should do with an announce.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Answer with these values.
    Reply(AnnounceResponse),
    /// Refuse with this reason.
    Failure(String),
    /// Say nothing.
    Silent,
}

/// The state shared by the tracker's tasks and its handle.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// Bumped on each recorded announce; async waiters watch it.
    announced: watch::Sender<u64>,
    config: MockTrackerConfig,
}

impl Shared {
    pub(crate) fn new(config: MockTrackerConfig) -> Self {
        Self {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            announced: watch::Sender::new(0),
            config,
        }
    }

    pub(crate) fn config(&self) -> &MockTrackerConfig {
        &self.config
    }

    /// Locks the state; a panic elsewhere while holding the lock leaves data a test can still
    /// read, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one announce under `mode`: records it, updates the swarm when the tracker
    /// answers, and says what to answer.
    pub(crate) fn announce(
        &self,
        mode: &TrackerMode,
        transport: Transport,
        source: SocketAddr,
        req: &AnnounceRequest,
    ) -> Outcome {
        let outcome = {
            let mut state = self.lock();
            record(&mut state, transport, source, req);
            match mode {
                TrackerMode::Healthy => Outcome::Reply(self.update(&mut state, source.ip(), req)),
                TrackerMode::FixedPeers(list) => {
                    let mut reply = self.update(&mut state, source.ip(), req);
                    reply.peers = list
                        .iter()
                        .map(|&addr| TrackerPeer {
                            addr,
                            peer_id: None,
                        })
                        .collect();
                    Outcome::Reply(reply)
                }
                TrackerMode::Failure(reason) => Outcome::Failure(reason.clone()),
                TrackerMode::Silent | TrackerMode::Down => Outcome::Silent,
            }
        };
        self.changed.notify_all();
        self.announced.send_modify(|n| *n += 1);
        outcome
    }

    /// Updates the swarm for `req` and builds the answer: up to `numwant` other peers.
    fn update(&self, state: &mut State, ip: IpAddr, req: &AnnounceRequest) -> AnnounceResponse {
        let swarm = state.swarms.entry(req.info_hash).or_default();
        let me = SwarmPeer {
            peer_id: req.peer_id,
            addr: SocketAddr::new(ip, req.port),
            left: req.left,
        };
        let want = req
            .numwant
            .unwrap_or(self.config.default_numwant)
            .min(self.config.max_numwant);
        let peers = if req.event == AnnounceEvent::Stopped {
            swarm.peers.retain(|p| p.peer_id != me.peer_id);
            Vec::new()
        } else {
            if req.event == AnnounceEvent::Completed {
                swarm.completed = swarm.completed.saturating_add(1);
            }
            swarm.upsert(me);
            swarm
                .peers
                .iter()
                .filter(|p| p.peer_id != me.peer_id && p.addr != me.addr)
                .take(usize::try_from(want).unwrap_or(usize::MAX))
                .map(|p| TrackerPeer {
                    addr: p.addr,
                    peer_id: Some(p.peer_id),
                })
                .collect()
        };
        let stats = swarm.stats();
        AnnounceResponse {
            interval: self.config.interval,
            min_interval: self.config.min_interval,
            tracker_id: self.config.tracker_id.clone(),
            complete: Some(stats.complete),
            incomplete: Some(stats.incomplete),
            warning: None,
            peers,
        }
    }

    /// Swarm counts for `hash`; zeros for a torrent nobody announced.
    pub(crate) fn stats(&self, hash: &InfoHash) -> ScrapeStats {
        self.lock()
            .swarms
            .get(hash)
            .map(Swarm::stats)
            .unwrap_or_default()
    }

    /// Every torrent's counts, for a scrape that names none (BEP 48).
    pub(crate) fn all_stats(&self) -> Vec<(InfoHash, ScrapeStats)> {
        let state = self.lock();
        state.swarms.iter().map(|(h, s)| (*h, s.stats())).collect()
    }

    /// The peers of `hash` in order of first announce.
    pub(crate) fn peers(&self, hash: &InfoHash) -> Vec<SwarmPeer> {
        let state = self.lock();
        state
            .swarms
            .get(hash)
            .map(|s| s.peers.clone())
            .unwrap_or_default()
    }

    /// Adds or updates a peer without an announce.
    pub(crate) fn add_peer(&self, hash: InfoHash, peer: SwarmPeer) {
        self.lock().swarms.entry(hash).or_default().upsert(peer);
    }

    /// A copy of the record.
    pub(crate) fn announces(&self) -> Vec<RecordedAnnounce> {
        self.lock().announces.iter().cloned().collect()
    }

    /// Forgets the recorded announces (the swarms stay).
    pub(crate) fn clear_announces(&self) {
        self.lock().announces.clear();
    }

    /// The first recorded announce that `pred` accepts, if any.
    pub(crate) fn find(
        &self,
        pred: &dyn Fn(&RecordedAnnounce) -> bool,
    ) -> Option<RecordedAnnounce> {
        self.lock().announces.iter().find(|a| pred(a)).cloned()
    }

    /// Blocks until `pred` accepts a recorded announce or `deadline` passes.
    pub(crate) fn wait_for(
        &self,
        pred: &dyn Fn(&RecordedAnnounce) -> bool,
        deadline: Instant,
    ) -> Option<RecordedAnnounce> {
        let mut state = self.lock();
        loop {
            if let Some(found) = state.announces.iter().find(|a| pred(a)) {
                return Some(found.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self
                .changed
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// A receiver that changes on each recorded announce.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.announced.subscribe()
    }

    /// Called by the HTTP front end when its listener goes up or down.
    pub(crate) fn set_http_listening(&self, listening: bool, error: Option<String>) {
        {
            let mut state = self.lock();
            state.http_listening = Some(listening);
            state.http_bind_error = error;
        }
        self.changed.notify_all();
    }

    /// Blocks until the HTTP listener is `want`, a bind error is reported, or `deadline`.
    pub(crate) fn wait_http_listening(&self, want: bool, deadline: Instant) -> Result<(), String> {
        let mut state = self.lock();
        loop {
            if state.http_listening == Some(want) {
                return Ok(());
            }
            if let Some(error) = &state.http_bind_error {
                return Err(error.clone());
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err("timed out waiting for the HTTP listener".to_owned());
            };
            state = self
                .changed
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// Appends to the record, dropping the oldest beyond [`MAX_RECORDED`].
fn record(state: &mut State, transport: Transport, source: SocketAddr, req: &AnnounceRequest) {
    if state.announces.len() >= MAX_RECORDED {
        state.announces.pop_front();
    }
    state.announces.push_back(RecordedAnnounce {
        transport,
        source,
        info_hash: req.info_hash,
        peer_id: req.peer_id,
        port: req.port,
        uploaded: req.uploaded,
        downloaded: req.downloaded,
        left: req.left,
        event: req.event,
        numwant: req.numwant,
        at: Instant::now(),
    });
}
